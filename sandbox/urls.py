from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django_otp.views import LoginView as OTPLoginView
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

urlpatterns = [
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("django-admin/", admin.site.urls),
    # A login that also asks for a django-otp token; seed_demo uses it for 2FA-verified sessions.
    path(
        "accounts/login/",
        OTPLoginView.as_view(template_name="demo/otp_login.html"),
        name="otp_login",
    ),
]

if settings.DEBUG:
    from django.conf.urls.static import static
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

urlpatterns += [
    # Wagtail's page serving, last: it catches everything else.
    path("", include(wagtail_urls)),
]
