// Where a remote database is, from the URL a user gives connect().
#pragma once

#include <string>
#include <string_view>

#include "secret.hpp"

namespace aiolibsql::remote {

struct RemoteEndpoint {
  // "https://host[:port][/prefix]", without a trailing slash: Hrana paths follow it.
  std::string base_url;
  Secret auth_token;
};

// Whether `database` names a remote database (libsql:, https:, http:, wss:, ws:).
bool is_remote_url(std::string_view database);

// libsql:// means https:// unless `?tls=0` says http://, as the official
// clients read it; https:// and http:// are taken as given. The query may
// also carry `authToken` (used when `auth_token` is empty). Throws DbError:
// InterfaceError for a URL that is not one of these or has other options,
// NotSupportedError for a WebSocket URL.
RemoteEndpoint parse_remote_url(std::string_view database, Secret auth_token);

}  // namespace aiolibsql::remote
