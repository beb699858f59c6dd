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

// Whether a stream may move to `url`, a base_url the server answered: an
// https:// URL always; an http:// URL only if the database was reached over
// http:// already, so that a token sent over TLS is never sent in the clear.
bool acceptable_stream_url(std::string_view url, std::string_view connected_to);

}  // namespace aiolibsql::remote
