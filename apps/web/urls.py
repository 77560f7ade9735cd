from django.urls import path

from apps.web.views import catalog, catalog_files, inbox, insights, kpis, portfolio, workspace

urlpatterns = [
    path("", portfolio.home, name="home"),
    path("start/", portfolio.landing, name="landing"),
    path("products/<slug:slug>/", catalog.product_detail, name="product_detail"),
    path("goals/<slug:slug>/", catalog.goal_detail, name="goal_detail"),
    path("catalog/", catalog_files.catalog_files_page, name="catalog_files"),
    path("catalog/export/", catalog_files.catalog_export, name="catalog_export"),
    path("catalog/import/", catalog_files.catalog_import_preview, name="catalog_import"),
    path("catalog/import/confirm/", catalog_files.catalog_import_confirm, name="catalog_import_confirm"),
    path("kpis/<int:pk>/", kpis.kpi_detail, name="kpi_detail"),
    path("kpis/<int:pk>/source/test/", kpis.kpi_source_test, name="kpi_source_test"),
    path("kpis/<int:pk>/source/", kpis.kpi_source_save, name="kpi_source_save"),
    path("workspace/", workspace.workspace, name="workspace"),
    path("workspace/outcome/", workspace.outcome_log, name="workspace_outcome"),
    path("workspace/outcome/periods/", workspace.outcome_periods, name="workspace_outcome_periods"),
    path("workspace/cost/", workspace.cost_record_view, name="workspace_cost"),
    path("workspace/upload/", workspace.csv_upload, name="workspace_upload"),
    path("workspace/upload/confirm/", workspace.csv_confirm, name="workspace_upload_confirm"),
    path("inbox/", inbox.inbox, name="inbox"),
    path("inbox/alerts/<int:pk>/", inbox.alert_detail, name="alert_detail"),
    path("inbox/alerts/<int:pk>/acknowledge/", inbox.alert_acknowledge_view, name="alert_acknowledge"),
    path("inbox/alerts/<int:pk>/snooze/", inbox.alert_snooze_view, name="alert_snooze"),
    path("inbox/alerts/<int:pk>/decide/", inbox.alert_decide_view, name="alert_decide"),
    path("inbox/decisions/", inbox.decision_log, name="decision_log"),
    path("decision-loop/", insights.decision_loop_view, name="decision_loop"),
    path("readiness/", insights.readiness_view, name="readiness"),
]
