from ._maintenance import MaintenanceCommand


class Command(MaintenanceCommand):
    help = (
        "Delete records of sessions that ended, were revoked or expired longer than "
        "WAGTAIL_2FA_SESSIONS_RETENTION ago, and the session store's expired data."
    )
    action = "cleanup"
    done_message = "{count} old session records deleted, expired session data cleared"
