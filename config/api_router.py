"""The REST API under /api/v1/: every app registers its viewsets here."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from apps.accounts.api.views import TokenView, UserViewSet
from apps.bets.api.views import ValueBetViewSet
from apps.catalog.api.views import DataProductViewSet, DomainViewSet, GoalViewSet
from apps.costs.api.views import AllocationRuleViewSet, CostEntryViewSet, CostImportViewSet, ExchangeRateViewSet
from apps.governance.api.views import AlertViewSet, DecisionViewSet
from apps.interchange.api.views import DataProductFilesViewSet
from apps.kpis.api.views import KPIViewSet, MeasurementViewSet
from apps.notifications.api.views import WebhookSubscriptionViewSet
from apps.sources.api.views import DataSourceViewSet, PullRunViewSet
from apps.usage.api.views import UsageRecordViewSet
from apps.valuation.api.insights import DecisionLoopView, ReadinessView
from apps.valuation.api.views import (
    EvaluationPolicyViewSet,
    EvaluationRunViewSet,
    EvaluationViewSet,
    PortfolioSummaryView,
)

router = DefaultRouter()
router.register("users", UserViewSet, basename="users")
router.register("domains", DomainViewSet, basename="domains")
router.register("goals", GoalViewSet, basename="goals")
# Before data-products: its import/ and export/ must match before a product's detail route.
router.register("data-products", DataProductFilesViewSet, basename="data-product-files")
router.register("data-products", DataProductViewSet, basename="data-products")
router.register("kpis", KPIViewSet, basename="kpis")
router.register("measurements", MeasurementViewSet, basename="measurements")
router.register("costs", CostEntryViewSet, basename="costs")
router.register("cost-imports", CostImportViewSet, basename="cost-imports")
router.register("allocation-rules", AllocationRuleViewSet, basename="allocation-rules")
router.register("exchange-rates", ExchangeRateViewSet, basename="exchange-rates")
router.register("bets", ValueBetViewSet, basename="bets")
router.register("usage", UsageRecordViewSet, basename="usage")
router.register("evaluations", EvaluationViewSet, basename="evaluations")
router.register("evaluation-runs", EvaluationRunViewSet, basename="evaluation-runs")
router.register("policies", EvaluationPolicyViewSet, basename="policies")
router.register("alerts", AlertViewSet, basename="alerts")
router.register("decisions", DecisionViewSet, basename="decisions")
router.register("data-sources", DataSourceViewSet, basename="data-sources")
router.register("pull-runs", PullRunViewSet, basename="pull-runs")
router.register("webhooks", WebhookSubscriptionViewSet, basename="webhooks")

urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("portfolio/summary/", PortfolioSummaryView.as_view(), name="portfolio-summary"),
    path("portfolio/decision-loop/", DecisionLoopView.as_view(), name="portfolio-decision-loop"),
    path("portfolio/readiness/", ReadinessView.as_view(), name="portfolio-readiness"),
    path("", include(router.urls)),
]
