"""What a request says about the browser behind it: address, User-Agent, device cookie."""

import ipaddress
import secrets

from user_agents import parse as parse_user_agent

from . import conf

DEVICE_COOKIE_SALT = "wagtail_2fa_sessions.device"


def _valid_ip(value):
    try:
        address = ipaddress.ip_address(value.strip())
    except (ValueError, AttributeError):
        return None
    if getattr(address, "scope_id", None):
        # "fe80::1%eth0": a zone index is meaningless off the host and free text.
        return None
    return str(address)


def client_ip(request):
    """The client's address: REMOTE_ADDR, or with ``TRUSTED_PROXIES = n`` the n-th entry
    from the right of the proxy header (the one the outermost trusted proxy saw).
    A malformed or spoofed value never comes back; ``None`` when nothing is valid."""
    remote = _valid_ip(request.META.get("REMOTE_ADDR", ""))
    proxies = int(conf.get("TRUSTED_PROXIES") or 0)
    if proxies <= 0:
        return remote
    header = request.META.get(conf.get("PROXY_HEADER"), "")
    hops = [hop for hop in header.split(",") if hop.strip()]
    if len(hops) < proxies:
        return remote
    return _valid_ip(hops[-proxies]) or remote


def truncated_user_agent(request):
    return request.META.get("HTTP_USER_AGENT", "")[: conf.get("USER_AGENT_MAX_LENGTH")]


def describe_user_agent(user_agent):
    """Browser, OS and device type for humans, parsed from an already truncated string."""
    from .models import SessionRecord

    if not user_agent:
        return {"browser": "", "os": "", "device_type": SessionRecord.DeviceType.OTHER}
    parsed = parse_user_agent(user_agent)
    if parsed.is_bot:
        device_type = SessionRecord.DeviceType.BOT
    elif parsed.is_tablet:
        device_type = SessionRecord.DeviceType.TABLET
    elif parsed.is_mobile:
        device_type = SessionRecord.DeviceType.MOBILE
    elif parsed.is_pc:
        device_type = SessionRecord.DeviceType.DESKTOP
    else:
        device_type = SessionRecord.DeviceType.OTHER
    return {
        "browser": _family_and_version(parsed.browser)[:100],
        "os": _family_and_version(parsed.os)[:100],
        "device_type": device_type,
    }


def _family_and_version(part):
    family = part.family if part.family != "Other" else ""
    if family and part.version_string:
        return f"{family} {part.version_string}"
    return family


def device_id_from_cookie(request):
    """The device id in a validly signed device cookie, or ``None`` (missing or tampered)."""
    device_id = request.get_signed_cookie(
        conf.get("DEVICE_COOKIE_NAME"), default=None, salt=DEVICE_COOKIE_SALT
    )
    if not device_id or len(device_id) > 64:
        return None
    return device_id


def new_device_id():
    return secrets.token_urlsafe(24)


def set_device_cookie(response, request, device_id):
    response.set_signed_cookie(
        conf.get("DEVICE_COOKIE_NAME"),
        device_id,
        salt=DEVICE_COOKIE_SALT,
        max_age=conf.get("DEVICE_COOKIE_AGE"),
        secure=request.is_secure(),
        httponly=True,
        samesite="Lax",
    )
