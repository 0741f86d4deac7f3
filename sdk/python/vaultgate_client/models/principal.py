from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.mode import Mode
from ..models.principal_auth_kind import PrincipalAuthKind
from ..models.scope import Scope

if TYPE_CHECKING:
    from ..models.principal_key_type_0 import PrincipalKeyType0
    from ..models.principal_oauth_client_type_0 import PrincipalOauthClientType0
    from ..models.principal_organization import PrincipalOrganization
    from ..models.principal_user import PrincipalUser


T = TypeVar("T", bound="Principal")


@_attrs_define
class Principal:
    """
    Attributes:
        auth_kind (PrincipalAuthKind): How the caller authenticated: an API key, an OAuth access token
            (`oauth`: `key` is then null and `oauth_client` names the app
            acting for `user`), or a managed MCP server's access URL
            (`mcp_server_token`: `key` then describes the server and its token
            — `id` is the server's id, `name` its name — and the caller acts as
            the server's creator).
        mode (Mode): Test keys see only test-mode data; live keys only live data.
        scopes (list[Scope]): The scopes the credentials hold; for an OAuth token, the read
            scopes both the token and the user's approval of the app grant.
        key (None | PrincipalKeyType0): The API key (or managed server) authenticating the call; null for an OAuth
            access token.
        oauth_client (None | PrincipalOauthClientType0): The OAuth client (the app) an access token was issued to; null
            for any other credentials.
        user (PrincipalUser): The user the credentials act for: the key's owner, the user who approved the OAuth app, or
            a managed server's creator.
        organization (PrincipalOrganization): The organization the credentials belong to; everything the caller sees is
            this organization's.
    """

    auth_kind: PrincipalAuthKind
    mode: Mode
    scopes: list[Scope]
    key: None | PrincipalKeyType0
    oauth_client: None | PrincipalOauthClientType0
    user: PrincipalUser
    organization: PrincipalOrganization
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.principal_key_type_0 import PrincipalKeyType0
        from ..models.principal_oauth_client_type_0 import PrincipalOauthClientType0

        auth_kind = self.auth_kind.value

        mode = self.mode.value

        scopes = []
        for scopes_item_data in self.scopes:
            scopes_item = scopes_item_data.value
            scopes.append(scopes_item)

        key: dict[str, Any] | None
        if isinstance(self.key, PrincipalKeyType0):
            key = self.key.to_dict()
        else:
            key = self.key

        oauth_client: dict[str, Any] | None
        if isinstance(self.oauth_client, PrincipalOauthClientType0):
            oauth_client = self.oauth_client.to_dict()
        else:
            oauth_client = self.oauth_client

        user = self.user.to_dict()

        organization = self.organization.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "auth_kind": auth_kind,
                "mode": mode,
                "scopes": scopes,
                "key": key,
                "oauth_client": oauth_client,
                "user": user,
                "organization": organization,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.principal_key_type_0 import PrincipalKeyType0
        from ..models.principal_oauth_client_type_0 import PrincipalOauthClientType0
        from ..models.principal_organization import PrincipalOrganization
        from ..models.principal_user import PrincipalUser

        d = dict(src_dict)
        auth_kind = PrincipalAuthKind(d.pop("auth_kind"))

        mode = Mode(d.pop("mode"))

        scopes = []
        _scopes = d.pop("scopes")
        for scopes_item_data in _scopes:
            scopes_item = Scope(scopes_item_data)

            scopes.append(scopes_item)

        def _parse_key(data: object) -> None | PrincipalKeyType0:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                key_type_0 = PrincipalKeyType0.from_dict(data)

                return key_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | PrincipalKeyType0, data)

        key = _parse_key(d.pop("key"))

        def _parse_oauth_client(data: object) -> None | PrincipalOauthClientType0:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                oauth_client_type_0 = PrincipalOauthClientType0.from_dict(data)

                return oauth_client_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | PrincipalOauthClientType0, data)

        oauth_client = _parse_oauth_client(d.pop("oauth_client"))

        user = PrincipalUser.from_dict(d.pop("user"))

        organization = PrincipalOrganization.from_dict(d.pop("organization"))

        principal = cls(
            auth_kind=auth_kind,
            mode=mode,
            scopes=scopes,
            key=key,
            oauth_client=oauth_client,
            user=user,
            organization=organization,
        )

        principal.additional_properties = d
        return principal

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
