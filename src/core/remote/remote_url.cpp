#include "remote_url.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <memory>
#include <optional>

#include "error.hpp"

namespace aiolibsql::remote {

namespace {

struct UrlDeleter {
  void operator()(CURLU* url) const noexcept { curl_url_cleanup(url); }
};
struct CurlStringDeleter {
  void operator()(char* text) const noexcept { curl_free(text); }
};
using CurlString = std::unique_ptr<char, CurlStringDeleter>;

[[noreturn]] void bad_url(std::string_view why) {
  throw DbError(ErrorKind::Interface, "invalid remote database URL: " + std::string(why));
}

std::optional<std::string> part(CURLU* url, CURLUPart which, unsigned flags = 0) {
  char* text = nullptr;
  if (curl_url_get(url, which, &text, flags) != CURLUE_OK || text == nullptr) return std::nullopt;
  return std::string(CurlString(text).get());
}

std::string url_decoded(std::string_view text) {
  int length = 0;
  const CurlString decoded(curl_easy_unescape(nullptr, text.data(), static_cast<int>(text.size()), &length));
  if (!decoded) throw DbError(ErrorKind::Memory, "out of memory");
  return std::string(decoded.get(), static_cast<std::size_t>(length));
}

std::string_view scheme_of(std::string_view database) {
  const auto colon = database.find("://");
  return colon == std::string_view::npos ? std::string_view() : database.substr(0, colon);
}

}  // namespace

bool is_remote_url(std::string_view database) {
  const auto scheme = scheme_of(database);
  return scheme == "libsql" || scheme == "https" || scheme == "http" || scheme == "wss" || scheme == "ws";
}

RemoteEndpoint parse_remote_url(std::string_view database, Secret auth_token) {
  std::string scheme(scheme_of(database));
  if (scheme == "wss" || scheme == "ws") {
    throw DbError(ErrorKind::NotSupported,
                  "Hrana over WebSocket is not supported: use a libsql://, https:// or http:// URL");
  }
  if (scheme != "libsql" && scheme != "https" && scheme != "http") bad_url("expected libsql://, https:// or http://");
  const std::unique_ptr<CURLU, UrlDeleter> url(curl_url());
  if (!url) throw DbError(ErrorKind::Memory, "out of memory");
  // libcurl parses only schemes it knows: read a libsql URL as https.
  const std::string parsable = (scheme == "libsql" ? "https" : scheme) + std::string(database.substr(scheme.size()));
  if (curl_url_set(url.get(), CURLUPART_URL, parsable.c_str(), 0) != CURLUE_OK) bad_url("it cannot be parsed");
  if (part(url.get(), CURLUPART_USER) || part(url.get(), CURLUPART_FRAGMENT)) {
    bad_url("user names and fragments are not supported");
  }
  std::optional<bool> tls;
  // Split first, decode each part after: a decoded '&' or '=' belongs to its value.
  if (const auto query = part(url.get(), CURLUPART_QUERY)) {
    std::string_view rest(*query);
    while (!rest.empty()) {
      const auto amp = rest.find('&');
      const std::string_view pair = rest.substr(0, amp);
      rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
      const auto equals = pair.find('=');
      const std::string key = url_decoded(pair.substr(0, equals));
      const std::string value =
          url_decoded(equals == std::string_view::npos ? std::string_view() : pair.substr(equals + 1));
      if (key == "tls" && (value == "0" || value == "1")) {
        tls = value == "1";
      } else if (key == "authToken") {
        if (auth_token.empty()) auth_token = Secret(value);
      } else {
        bad_url("unsupported option \"" + key + "\" (supported: tls=0|1, authToken)");
      }
    }
  }
  if (tls && scheme != "libsql") bad_url("tls= is only for libsql:// URLs");
  const bool secure = scheme == "https" || (scheme == "libsql" && tls.value_or(true));
  const auto host = part(url.get(), CURLUPART_HOST);
  if (!host || host->empty()) bad_url("it has no host");
  std::string base = (secure ? "https://" : "http://") + *host;
  if (const auto port = part(url.get(), CURLUPART_PORT)) base += ":" + *port;
  if (auto path = part(url.get(), CURLUPART_PATH)) {
    while (!path->empty() && path->back() == '/') path->pop_back();
    base += *path;
  }
  // It goes into an HTTP header: a line break in it would add headers of its own.
  const auto token = auth_token.bytes();
  if (std::any_of(token.begin(), token.end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
    throw DbError(ErrorKind::Interface, "the auth token contains a control character (a line break?)");
  }
  return RemoteEndpoint{std::move(base), std::move(auth_token)};
}

bool acceptable_stream_url(std::string_view url, std::string_view connected_to) {
  if (url.starts_with("https://")) return url.size() > std::string_view("https://").size();
  return url.starts_with("http://") && url.size() > std::string_view("http://").size() &&
         !connected_to.starts_with("https://");
}

}  // namespace aiolibsql::remote
