from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from apps.core.views import healthz

admin.site.site_header = "meshvalue administration"
admin.site.site_title = "meshvalue admin"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("config.api_router")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's init script from a URL, not inline. Swagger UI's own CSS
    # draws its icons from data: URIs: allowed for images on this page only.
    path(
        "api/docs/",
        csp_update({"img-src": ["data:"]})(
            SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="api/swagger_ui.html")
        ),
        name="api-docs",
    ),
    path("accounts/", include("apps.accounts.urls")),
    path("profile/notifications/", include("apps.notifications.urls")),
    path("costs/", include("apps.costs.urls")),
    path("", include("apps.web.urls")),
]
