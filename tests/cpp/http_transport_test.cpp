#include "http_transport.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <vector>

#include "fake_http_server.hpp"

namespace aiolibsql::remote {
namespace {

using testing::FakeHttpServer;
using testing::ReceivedRequest;
using testing::Reply;

// A hang guard, not a timing assumption: every outcome here arrives promptly.
constexpr auto kHangGuard = std::chrono::seconds(30);

HttpOutcome wait(std::future<HttpOutcome>& future) {
  if (future.wait_for(kHangGuard) != std::future_status::ready) throw std::runtime_error("no outcome");
  return future.get();
}

std::future<HttpOutcome> send(HttpTransport& transport, HttpRequest request, std::uint64_t* id = nullptr) {
  auto promise = std::make_shared<std::promise<HttpOutcome>>();
  auto future = promise->get_future();
  const auto sent =
      transport.send(std::move(request), [promise](HttpOutcome outcome) { promise->set_value(std::move(outcome)); });
  if (id) *id = sent;
  return future;
}

HttpRequest post(const FakeHttpServer& server, std::string body = "{}") {
  HttpRequest request;
  request.url = server.url("/v3/pipeline");
  request.body = std::move(body);
  return request;
}

Reply echo_body(const ReceivedRequest& request) { return Reply::http(200, request.body); }

TEST(HttpTransport, APostArrivesWithItsBodyJsonTypeAndBearerTokenAndItsAnswerComesBack) {
  ReceivedRequest seen;
  FakeHttpServer server([&](const ReceivedRequest& request) {
    seen = request;
    return Reply::http(200, R"({"ok":true})");
  });
  HttpTransport transport;
  HttpRequest request = post(server, R"({"baton":null})");
  request.bearer_token = Secret("s3cret-token");
  auto future = send(transport, std::move(request));
  const HttpOutcome outcome = wait(future);
  ASSERT_TRUE(outcome.response) << outcome.failure.message;
  EXPECT_EQ(outcome.response->status, 200);
  EXPECT_EQ(outcome.response->body, R"({"ok":true})");
  EXPECT_TRUE(seen.head.starts_with("POST /v3/pipeline HTTP/1.1")) << seen.head;
  EXPECT_NE(seen.head.find("Content-Type: application/json"), std::string::npos);
  EXPECT_NE(seen.head.find("Authorization: Bearer s3cret-token"), std::string::npos);
  EXPECT_EQ(seen.body, R"({"baton":null})");
}

TEST(HttpTransport, AGetCarriesNoBody) {
  ReceivedRequest seen;
  FakeHttpServer server([&](const ReceivedRequest& request) {
    seen = request;
    return Reply::http(200, "");
  });
  HttpTransport transport;
  HttpRequest request;
  request.post = false;
  request.url = server.url("/v3");
  auto future = send(transport, std::move(request));
  ASSERT_TRUE(wait(future).response);
  EXPECT_TRUE(seen.head.starts_with("GET /v3 HTTP/1.1")) << seen.head;
  EXPECT_EQ(seen.head.find("Authorization"), std::string::npos);
}

TEST(HttpTransport, ErrorStatusesComeBackAsAnswersForTheProtocolToRead) {
  FakeHttpServer server([](const ReceivedRequest& request) {
    return request.body == "401" ? Reply::http(401, "Unauthorized", "text/plain")
                                 : Reply::http(500, "<html>oops</html>", "text/html");
  });
  HttpTransport transport;
  auto unauthorized = send(transport, post(server, "401"));
  auto failed = send(transport, post(server, "500"));
  EXPECT_EQ(wait(unauthorized).response->status, 401);
  const HttpOutcome outcome = wait(failed);
  EXPECT_EQ(outcome.response->status, 500);
  EXPECT_EQ(outcome.response->body, "<html>oops</html>");
}

TEST(HttpTransport, ManyRequestsAreInFlightAtOnceAndEachGetsItsOwnAnswer) {
  FakeHttpServer server(echo_body);
  HttpTransport transport;
  std::vector<std::future<HttpOutcome>> futures;
  for (int i = 0; i < 64; ++i) futures.push_back(send(transport, post(server, std::to_string(i))));
  for (int i = 0; i < 64; ++i) {
    const HttpOutcome outcome = wait(futures[i]);
    ASSERT_TRUE(outcome.response) << outcome.failure.message;
    EXPECT_EQ(outcome.response->body, std::to_string(i));
  }
}

TEST(HttpTransport, RequestsOneAfterAnotherReuseOneKeptAliveConnection) {
  FakeHttpServer server(echo_body);
  HttpTransport transport;
  for (int i = 0; i < 20; ++i) {
    auto future = send(transport, post(server, std::to_string(i)));
    ASSERT_EQ(wait(future).response->body, std::to_string(i));
  }
  EXPECT_EQ(server.connections_accepted(), 1);
}

TEST(HttpTransport, NothingListeningIsAnOperationalErrorAndTheTransportStaysUsable) {
  std::string closed_url;
  {
    FakeHttpServer gone(echo_body);
    closed_url = gone.url("/v3/pipeline");
  }
  HttpTransport transport;
  HttpRequest request;
  request.url = closed_url;
  auto refused = send(transport, std::move(request));
  const HttpOutcome outcome = wait(refused);
  ASSERT_FALSE(outcome.response);
  EXPECT_EQ(outcome.failure.kind, ErrorKind::Operational);
  EXPECT_NE(outcome.failure.message.find("failed"), std::string::npos) << outcome.failure.message;

  FakeHttpServer server(echo_body);
  auto next = send(transport, post(server, "next"));
  EXPECT_EQ(wait(next).response->body, "next");
}

TEST(HttpTransport, AResetMidBodyIsAnOperationalError) {
  FakeHttpServer server([](const ReceivedRequest&) {
    return Reply::reset_after("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"baton\":\"par");
  });
  HttpTransport transport;
  auto future = send(transport, post(server));
  const HttpOutcome outcome = wait(future);
  ASSERT_FALSE(outcome.response);
  EXPECT_EQ(outcome.failure.kind, ErrorKind::Operational);
}

TEST(HttpTransport, ARequestAReusedConnectionCouldNotDeliverGoesAgainOnANewOne) {
  std::atomic<int> answered{0};
  FakeHttpServer server([&](const ReceivedRequest& request) {
    if (answered++ == 0) return Reply::reset_at_next_request(Reply::http(200, "first"));
    return Reply::http(200, std::to_string(request.body.size()));
  });
  HttpTransport transport;
  auto first = send(transport, post(server, "first"));
  ASSERT_EQ(wait(first).response->body, "first");
  // More than the sockets buffer: sending it fails when the reset comes.
  // Nothing of it was read, so sending it again cannot run anything twice,
  // whatever the request does.
  const std::string big(32 << 20, 'x');
  auto second = send(transport, post(server, big));
  const HttpOutcome outcome = wait(second);
  ASSERT_TRUE(outcome.response) << outcome.failure.message;
  EXPECT_EQ(outcome.response->body, std::to_string(big.size()));
  EXPECT_EQ(server.connections_accepted(), 2);
}

TEST(HttpTransport, AServerThatNeverAnswersFailsTheRequestAtItsTimeout) {
  FakeHttpServer server([](const ReceivedRequest&) { return Reply::stall(); });
  HttpTransport transport;
  HttpRequest request = post(server);
  request.options.request_timeout = std::chrono::milliseconds(200);
  auto future = send(transport, std::move(request));
  const HttpOutcome outcome = wait(future);
  ASSERT_FALSE(outcome.response);
  EXPECT_EQ(outcome.failure.kind, ErrorKind::Operational);
  EXPECT_NE(outcome.failure.message.find("did not answer in time"), std::string::npos) << outcome.failure.message;
}

TEST(HttpTransport, CancellingAStalledRequestEndsItAtOnceAndOthersGoOn) {
  FakeHttpServer server([](const ReceivedRequest& request) {
    return request.body == "stall" ? Reply::stall() : Reply::http(200, request.body);
  });
  HttpTransport transport;
  std::uint64_t id = 0;
  auto stalled = send(transport, post(server, "stall"), &id);
  server.wait_for_requests(1);
  transport.cancel(id);
  const HttpOutcome outcome = wait(stalled);
  ASSERT_FALSE(outcome.response);
  EXPECT_EQ(outcome.failure.kind, ErrorKind::Cancelled);
  auto next = send(transport, post(server, "after"));
  EXPECT_EQ(wait(next).response->body, "after");
}

TEST(HttpTransport, DestroyingTheTransportFailsWhatIsStillInFlight) {
  FakeHttpServer server([](const ReceivedRequest&) { return Reply::stall(); });
  std::future<HttpOutcome> stalled;
  {
    HttpTransport transport;
    stalled = send(transport, post(server));
    server.wait_for_requests(1);
  }
  const HttpOutcome outcome = wait(stalled);
  ASSERT_FALSE(outcome.response);
  EXPECT_EQ(outcome.failure.kind, ErrorKind::Operational);
  EXPECT_NE(outcome.failure.message.find("closed"), std::string::npos);
}

}  // namespace
}  // namespace aiolibsql::remote
