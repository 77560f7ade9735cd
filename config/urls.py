from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from apps.core.views import healthz

admin.site.site_header = "meshvalue administration"
admin.site.site_title = "meshvalue admin"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("config.api_router")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("accounts/", include("apps.accounts.urls")),
    path("profile/notifications/", include("apps.notifications.urls")),
    path("costs/", include("apps.costs.urls")),
    path("", include("apps.web.urls")),
]
