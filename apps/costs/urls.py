from django.urls import path

from apps.costs import views

urlpatterns = [
    path("imports/", views.import_list, name="cost_imports"),
    path("imports/<int:pk>/", views.import_detail, name="cost_import_detail"),
    path("imports/<int:pk>/progress/", views.import_progress, name="cost_import_progress"),
    path("imports/<int:pk>/reapply/", views.import_reapply, name="cost_import_reapply"),
    path("rules/", views.rule_list, name="allocation_rules"),
    path("rules/preview/", views.rule_preview, name="allocation_rule_preview"),
    path("rules/<int:pk>/move/", views.rule_move, name="allocation_rule_move"),
    path("rules/<int:pk>/delete/", views.rule_delete, name="allocation_rule_delete"),
]
