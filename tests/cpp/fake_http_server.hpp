// A scripted HTTP/1.1 server on 127.0.0.1 for transport tests: each request
// gets whatever the test's behaviour says, including the network faults a
// real server or proxy produces (silence, a reset mid-body, garbage).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace aiolibsql::testing {

struct ReceivedRequest {
  std::string head;  // request line and headers
  std::string body;
};

// What the server does with one request.
struct Reply {
  enum class Kind { Send, Stall, ResetAfterSending, StallAfterSending, ResetAtNextRequest };
  Kind kind = Kind::Send;
  std::string bytes;  // the raw response (or the part sent before a reset)

  static Reply http(int status, std::string body, std::string content_type = "application/json") {
    return Reply{Kind::Send, "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: " + content_type +
                                 "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body};
  }
  static Reply stall() { return Reply{Kind::Stall, {}}; }
  static Reply reset_after(std::string bytes) { return Reply{Kind::ResetAfterSending, std::move(bytes)}; }
  static Reply stall_after(std::string bytes) { return Reply{Kind::StallAfterSending, std::move(bytes)}; }
  // Answers and keeps the connection, as for keep-alive; then resets it as
  // soon as the next request starts, before reading it: the connection a
  // proxy or server closed while the client was about to reuse it.
  static Reply reset_at_next_request(Reply answer) { return Reply{Kind::ResetAtNextRequest, std::move(answer.bytes)}; }
};

class FakeHttpServer {
 public:
  using Behaviour = std::function<Reply(const ReceivedRequest&)>;

  explicit FakeHttpServer(Behaviour behaviour) : behaviour_(std::move(behaviour)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(listener_, 64) != 0 || ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      throw std::runtime_error("cannot listen on 127.0.0.1");
    }
    port_ = ntohs(address.sin_port);
    acceptor_ = std::thread([this] { accept_connections(); });
  }

  ~FakeHttpServer() {
    stopping_ = true;
    ::shutdown(listener_, SHUT_RDWR);
    ::close(listener_);
    acceptor_.join();
    {
      std::lock_guard lock(mutex_);
      for (const int client : clients_) ::shutdown(client, SHUT_RDWR);
    }
    for (auto& connection : connections_) connection.join();
    for (const int client : clients_) ::close(client);
  }

  std::string url(const std::string& path = "/") const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  int requests_seen() const { return requests_seen_.load(); }
  int connections_accepted() const { return connections_accepted_.load(); }
  // Blocks until `count` requests have arrived (a stalled one counts).
  void wait_for_requests(int count) {
    std::unique_lock lock(mutex_);
    arrived_.wait(lock, [&] { return requests_seen_.load() >= count; });
  }

 private:
  void accept_connections() {
    while (!stopping_) {
      const int client = ::accept(listener_, nullptr, nullptr);
      if (client < 0) return;
      ++connections_accepted_;
      std::lock_guard lock(mutex_);
      clients_.push_back(client);
      connections_.emplace_back([this, client] { serve(client); });
    }
  }

  void serve(int client) {
    std::string buffer;
    while (true) {
      ReceivedRequest request;
      if (!read_request(client, buffer, request)) return;
      const Reply reply = behaviour_(request);
      {
        std::lock_guard lock(mutex_);
        ++requests_seen_;
      }
      arrived_.notify_all();
      if (reply.kind != Reply::Kind::Stall && !send_all(client, reply.bytes)) return;
      if (reply.kind == Reply::Kind::Stall || reply.kind == Reply::Kind::StallAfterSending) {
        char ignored;
        while (::recv(client, &ignored, 1, 0) > 0) {
        }
        return;
      }
      if (reply.kind == Reply::Kind::ResetAtNextRequest) {
        char first;
        if (::recv(client, &first, 1, 0) > 0) reset(client);
        return;
      }
      if (reply.kind == Reply::Kind::ResetAfterSending) {
        linger reset{1, 0};  // close with RST, not FIN
        ::setsockopt(client, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
        ::shutdown(client, SHUT_RDWR);
        return;
      }
    }
  }

  // Closes with RST, not FIN: what the client sends next fails at once.
  void reset(int client) {
    linger reset{1, 0};
    ::setsockopt(client, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    std::lock_guard lock(mutex_);
    std::erase(clients_, client);
    ::close(client);
  }

  static bool read_request(int client, std::string& buffer, ReceivedRequest& request) {
    std::size_t head_end;
    while ((head_end = buffer.find("\r\n\r\n")) == std::string::npos) {
      if (!read_more(client, buffer)) return false;
    }
    request.head = buffer.substr(0, head_end);
    std::size_t body_length = 0;
    const auto at = lowercase(request.head).find("content-length:");
    if (at != std::string::npos) body_length = std::stoul(request.head.substr(at + 15));
    while (buffer.size() < head_end + 4 + body_length) {
      if (!read_more(client, buffer)) return false;
    }
    request.body = buffer.substr(head_end + 4, body_length);
    buffer.erase(0, head_end + 4 + body_length);
    return true;
  }

  static bool read_more(int client, std::string& buffer) {
    char chunk[4096];
    const ssize_t got = ::recv(client, chunk, sizeof chunk, 0);
    if (got <= 0) return false;
    buffer.append(chunk, static_cast<std::size_t>(got));
    return true;
  }

  static bool send_all(int client, const std::string& bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
      const ssize_t wrote = ::send(client, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (wrote <= 0) return false;
      sent += static_cast<std::size_t>(wrote);
    }
    return true;
  }

  static std::string lowercase(std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
  }

  Behaviour behaviour_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> requests_seen_{0};
  std::atomic<int> connections_accepted_{0};
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::vector<int> clients_;
  std::vector<std::thread> connections_;
  std::thread acceptor_;
};

}  // namespace aiolibsql::testing
