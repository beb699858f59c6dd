#include "sync_client.hpp"

#include <simdjson.h>

#include "error.hpp"
#include "replica_files.hpp"

namespace aiolibsql::replica {

namespace {

[[noreturn]] void fail(const std::string& message) { throw DbError(Error{ErrorKind::Operational, -1, message}); }

[[noreturn]] void garbage(const std::string& what) {
  fail("the primary's answer to " + what + " is not libSQL's sync protocol");
}

std::uint32_t field(simdjson::dom::object& object, const char* name, const std::string& what) {
  std::uint64_t value = 0;
  if (object[name].get(value) != simdjson::SUCCESS || value > UINT32_MAX) garbage(what);
  return static_cast<std::uint32_t>(value);
}

simdjson::dom::object json_object(simdjson::dom::parser& parser, const std::string& body, const std::string& what) {
  simdjson::dom::object object;
  if (parser.parse(body).get(object) != simdjson::SUCCESS) garbage(what);
  return object;
}

}  // namespace

std::uint32_t decode_info_answer(const std::string& body) {
  const std::string what = "GET /info";
  simdjson::dom::parser parser;
  auto object = json_object(parser, body, what);
  const std::uint32_t generation = field(object, "current_generation", what);
  if (generation == 0) garbage(what);
  return generation;
}

std::optional<std::uint32_t> decode_end_of_frames(const std::string& body) {
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  std::uint64_t current = 0;
  if (parser.parse(body).get(object) != simdjson::SUCCESS || object["generation"].get(current) != simdjson::SUCCESS ||
      current == 0 || current > UINT32_MAX) {
    return std::nullopt;
  }
  return static_cast<std::uint32_t>(current);
}

Pushed decode_push_answer(const std::string& body) {
  const std::string what = "a push";
  simdjson::dom::parser parser;
  auto object = json_object(parser, body, what);
  std::string_view status;
  if (object["status"].get(status) != simdjson::SUCCESS || (status != "ok" && status != "conflict")) garbage(what);
  Pushed pushed{status == "conflict", field(object, "generation", what), field(object, "max_frame_no", what), {}};
  std::string_view baton;
  if (object["baton"].get(baton) == simdjson::SUCCESS) pushed.baton = std::string(baton);
  return pushed;
}

SyncClient::SyncClient(remote::RemoteEndpoint endpoint, remote::HttpOptions options)
    : http_(std::move(endpoint), options) {}

std::uint32_t SyncClient::current_generation() {
  const auto response = http_.send(http_.request("/info", false), true);
  if (response.status != 200) fail_for_status(response, "GET /info");
  return decode_info_answer(response.body);
}

void SyncClient::export_database(std::uint32_t generation, const std::string& path) {
  const std::string export_path = "/export/" + std::to_string(generation);
  AtomicFile file(path);
  auto request = http_.request(export_path, false);
  // On the transport's thread: a write to the page cache, as it arrives.
  request.stream_body = [&file](std::string_view piece) {
    return file.append(piece) ? remote::BodyVerdict::Take : remote::BodyVerdict::Stop;
  };
  remote::HttpResponse response;
  try {
    // Not sent again on a broken connection: the file has part of the answer.
    response = http_.send(std::move(request), false);
  } catch (const DbError&) {
    // A full disk stops the answer: say that rather than how it stopped.
    if (file.failed()) file.commit();
    throw;
  }
  if (response.status != 200) fail_for_status(response, "GET " + export_path);
  file.commit();
}

Pulled SyncClient::pull(std::uint32_t generation, std::uint32_t start, std::uint32_t end) {
  const std::string path =
      "/sync/" + std::to_string(generation) + "/" + std::to_string(start) + "/" + std::to_string(end);
  auto response = http_.send(http_.request(path, false), true);
  if (response.status == 200) return Pulled{std::move(response.body), 0};
  if (response.status == 400 || response.status == 500) {
    // No frames from `start` on: the answer says which generation is current.
    if (const auto current = decode_end_of_frames(response.body)) return Pulled{{}, *current};
  }
  fail_for_status(response, "GET " + path);
}

Pushed SyncClient::push(std::uint32_t generation, std::uint32_t start, std::uint32_t end, const std::string& baton,
                        std::string frames) {
  std::string path = "/sync/" + std::to_string(generation) + "/" + std::to_string(start) + "/" + std::to_string(end);
  if (!baton.empty()) path += "/" + baton;
  auto sent = http_.request(path, true);
  sent.body = std::move(frames);
  const auto response = http_.send(std::move(sent), false);
  if (response.status != 200) fail_for_status(response, "POST " + path);
  return decode_push_answer(response.body);
}

}  // namespace aiolibsql::replica
