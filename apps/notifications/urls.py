from django.urls import path

from apps.notifications import views

urlpatterns = [
    path("", views.notification_preferences, name="notification_preferences"),
]
