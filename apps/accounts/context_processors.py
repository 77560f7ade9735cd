from django.http import HttpRequest

from apps.accounts.roles import Role, is_admin, user_roles


def roles(request: HttpRequest) -> dict:
    """Expose the user's roles to templates so navigation shows only what the role may do."""
    held = user_roles(request.user)
    return {
        "role_executive": Role.EXECUTIVE in held,
        "role_product_owner": Role.PRODUCT_OWNER in held,
        "role_governance_lead": Role.GOVERNANCE_LEAD in held,
        "role_admin": is_admin(request.user),
    }
