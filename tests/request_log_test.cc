// The live log of `hooksim receiver --log` (issue 15, point 5): one line
// per request as it ends, text or JSON.
#include "mock-receivers/request_log.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "mock-receivers/behavior_parser.h"
#include "mock-receivers/http/http_receiver_server.h"
#include "sim/cli/receiver_command.h"
#include "sim/contract/webhook_signature.h"

namespace hooksim {
namespace {

using nlohmann::json;

RequestLogRecord Sample() {
  RequestLogRecord r;
  // 2026-11-29T17:20:01.123Z
  r.ended = std::chrono::system_clock::time_point(
      std::chrono::milliseconds(1'795'972'801'123LL));
  r.method = "POST";
  r.path = "/hook";
  r.delivery = "dlv_1";
  r.attempt = 2;
  r.answer = Answer{429, Fault::kNone};
  r.latency = std::chrono::microseconds(12'345);
  return r;
}

TEST(RequestLogTest, TextLine) {
  RequestLogRecord r = Sample();
  EXPECT_EQ(FormatRequestLog(r, RequestLogFormat::kText),
            "2026-11-29T17:20:01.123Z POST /hook dlv_1 attempt=2 429 12.3ms");
  r.signature = SignatureVerdict::kBad;
  r.scheme = SignatureScheme::kGithub;
  r.answer = Answer{401, Fault::kNone};
  EXPECT_EQ(FormatRequestLog(r, RequestLogFormat::kText),
            "2026-11-29T17:20:01.123Z POST /hook dlv_1 attempt=2 401 12.3ms "
            "signature=bad (no signature matches the secret)");
  r.signature = SignatureVerdict::kValid;
  r.answer = Answer{200, Fault::kReset};
  r.abandoned = true;
  r.path = "/a b\r\n";  // Never breaks the line.
  EXPECT_EQ(FormatRequestLog(r, RequestLogFormat::kText),
            "2026-11-29T17:20:01.123Z POST /a_b__ dlv_1 attempt=2 reset 12.3ms "
            "abandoned signature=valid");
}

TEST(RequestLogTest, JsonLine) {
  RequestLogRecord r = Sample();
  r.signature = SignatureVerdict::kMissing;
  r.scheme = SignatureScheme::kStripe;
  const json line = json::parse(FormatRequestLog(r, RequestLogFormat::kJson));
  EXPECT_EQ(line.at("time"), "2026-11-29T17:20:01.123Z");
  EXPECT_EQ(line.at("method"), "POST");
  EXPECT_EQ(line.at("path"), "/hook");
  EXPECT_EQ(line.at("delivery"), "dlv_1");
  EXPECT_EQ(line.at("attempt"), 2);
  EXPECT_EQ(line.at("status"), 429);
  EXPECT_TRUE(line.at("fault").is_null());
  EXPECT_DOUBLE_EQ(line.at("latency_ms").get<double>(), 12.345);
  EXPECT_EQ(line.at("abandoned"), false);
  EXPECT_EQ(line.at("signature"), "missing");
  EXPECT_EQ(line.at("signature_reason"), "no Stripe-Signature header");
  r.answer = Answer{200, Fault::kHang};
  r.signature = SignatureVerdict::kNotChecked;
  const json hang = json::parse(FormatRequestLog(r, RequestLogFormat::kJson));
  EXPECT_TRUE(hang.at("status").is_null());
  EXPECT_EQ(hang.at("fault"), "hang");
  EXPECT_TRUE(hang.at("signature").is_null());
  EXPECT_EQ(ParseRequestLogFormat("json"), RequestLogFormat::kJson);
  EXPECT_EQ(ParseRequestLogFormat("yaml"), std::nullopt);
}

// The server calls the hook once per webhook request, with the attempt
// seen for its delivery and the answer given; admin requests are not
// logged.
TEST(RequestLogTest, ServerLogsEveryRequestAsItEnds) {
  Result<BehaviorSpec> spec = ParseBehavior(
      json::parse(R"({"sequence":[503, 200], "latency":{"fixed_ms":5}})"), "");
  ASSERT_TRUE(spec.ok());
  MockReceiver receiver(ReceiverOptions{"r", {}, nullptr}, *spec, Random(1));
  std::mutex mu;
  std::vector<std::string> lines;
  HttpReceiverOptions options;
  options.on_request_end = [&](const RequestLogRecord& r) {
    std::lock_guard<std::mutex> lock(mu);
    lines.push_back(FormatRequestLog(r, RequestLogFormat::kJson));
  };
  HttpReceiverServer server(receiver, options);
  ASSERT_TRUE(server.Start().ok());
  httplib::Client client("127.0.0.1", server.port());
  client.set_connection_timeout(std::chrono::seconds(5));
  client.set_read_timeout(std::chrono::seconds(5));
  const httplib::Headers id = {{"X-Hooksim-Delivery", "dlv_7"}};
  auto first = client.Post("/hooks/a", id, "{}", "application/json");
  auto second = client.Post("/hooks/a", id, "{}", "application/json");
  ASSERT_TRUE(first && second);
  ASSERT_TRUE(client.Get("/__hooksim/stats"));
  server.Stop();
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(lines.size(), 2u);
  const json a = json::parse(lines[0]);
  const json b = json::parse(lines[1]);
  EXPECT_EQ(a.at("path"), "/hooks/a");
  EXPECT_EQ(a.at("delivery"), "dlv_7");
  EXPECT_EQ(a.at("attempt"), 1);
  EXPECT_EQ(a.at("status"), 503);
  EXPECT_EQ(b.at("attempt"), 2);
  EXPECT_EQ(b.at("status"), 200);
  // Ends after the 5 ms latency: a lower bound the server guarantees.
  EXPECT_GE(a.at("latency_ms").get<double>(), 5.0);
}

// Requests refused before the behaviour are logged too, with the reason,
// as text and JSON: a sender that only gets 413s sees them in the log.
TEST(RequestLogTest, RefusedRequestsAreLoggedWithTheirReason) {
  Result<BehaviorSpec> spec = ParseBehavior(json::parse("{}"), "");
  ASSERT_TRUE(spec.ok());
  MockReceiver receiver(ReceiverOptions{"r", {}, nullptr}, *spec, Random(1));
  std::mutex mu;
  std::vector<std::string> text;
  std::vector<json> lines;
  HttpReceiverOptions options;
  options.max_body_bytes = 16;
  options.on_request_end = [&](const RequestLogRecord& r) {
    std::lock_guard<std::mutex> lock(mu);
    text.push_back(FormatRequestLog(r, RequestLogFormat::kText));
    lines.push_back(json::parse(FormatRequestLog(r, RequestLogFormat::kJson)));
  };
  HttpReceiverServer server(receiver, options);
  ASSERT_TRUE(server.Start().ok());
  httplib::Client client("127.0.0.1", server.port());
  client.set_connection_timeout(std::chrono::seconds(5));
  client.set_read_timeout(std::chrono::seconds(5));
  auto res = client.Post("/hook?x=1", std::string(64, ' ') + "{}",
                         "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 413);
  server.Stop();
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].at("status"), 413);
  EXPECT_EQ(lines[0].at("path"), "/hook");
  EXPECT_EQ(lines[0].at("delivery"), "");
  EXPECT_EQ(lines[0].at("attempt"), 0);
  ASSERT_TRUE(lines[0].at("refused").is_string()) << lines[0];
  EXPECT_NE(lines[0].at("refused").get<std::string>().find("16"),
            std::string::npos)
      << lines[0];
  EXPECT_NE(text[0].find(" POST /hook - attempt=0 413 "), std::string::npos)
      << text[0];
  EXPECT_NE(text[0].find(" refused ("), std::string::npos) << text[0];
}

// Runs `hooksim receiver` in-process with `options`, sends `send` to it
// once it listens, stops it; returns its stdout.
std::string RunReceiver(ReceiverCommandOptions options,
                        const std::function<void(httplib::Client&)>& send,
                        int* code) {
  options.listen = "127.0.0.1:0";
  std::ostringstream out;
  std::ostringstream err;
  *code = RunReceiverCommand(options, out, err, [&] {
    // Nothing is logged before a request arrives: reading is safe here.
    const std::string text = out.str();
    const std::string marker = "http://127.0.0.1:";
    const size_t at = text.find(marker);
    ASSERT_NE(at, std::string::npos) << text;
    httplib::Client client("127.0.0.1",
                           std::stoi(text.substr(at + marker.size())));
    client.set_connection_timeout(std::chrono::seconds(5));
    client.set_read_timeout(std::chrono::seconds(5));
    send(client);
  });
  EXPECT_EQ(err.str(), "");
  return out.str();
}

std::vector<std::string> LinesWith(const std::string& text,
                                   const std::string& needle) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.find(needle) != std::string::npos) out.push_back(line);
  }
  return out;
}

TEST(RequestLogTest, ReceiverCommandLogFlags) {
  ReceiverCommandOptions options;
  options.behavior = R"({"sequence":[{"status":429,
      "headers":{"Retry-After":"2"}}, 200],
      "verify_signature":{"scheme":"github","secret":"gh"}})";
  options.log = true;
  int code = -1;
  const std::string body = R"({"id":1})";
  auto send = [&](httplib::Client& client) {
    const httplib::Headers signed_headers = {
        {"X-Hooksim-Delivery", "dlv_9"},
        {"X-Hub-Signature-256", SignGithubSha256("gh", body)}};
    ASSERT_TRUE(client.Post("/hook", signed_headers, body, "application/json"));
    ASSERT_TRUE(client.Post("/hook", signed_headers, body, "application/json"));
    ASSERT_TRUE(client.Post("/hook", {{"X-Hooksim-Delivery", "dlv_10"}}, body,
                            "application/json"));
  };
  std::string out = RunReceiver(options, send, &code);
  EXPECT_EQ(code, 0);
  std::vector<std::string> lines = LinesWith(out, " POST /hook ");
  ASSERT_EQ(lines.size(), 3u) << out;
  EXPECT_NE(lines[0].find(" POST /hook dlv_9 attempt=1 429 "),
            std::string::npos)
      << lines[0];
  EXPECT_NE(lines[0].find("signature=valid"), std::string::npos);
  EXPECT_NE(lines[1].find(" dlv_9 attempt=2 200 "), std::string::npos);
  EXPECT_NE(lines[2].find(" dlv_10 attempt=1 401 "), std::string::npos);
  EXPECT_NE(lines[2].find(
                "signature=missing (no X-Hub-Signature-256 header)"),
            std::string::npos)
      << lines[2];

  options.log_format = RequestLogFormat::kJson;
  out = RunReceiver(options, send, &code);
  EXPECT_EQ(code, 0);
  lines = LinesWith(out, "\"path\"");
  ASSERT_EQ(lines.size(), 3u) << out;
  const json last = json::parse(lines[2]);
  EXPECT_EQ(last.at("delivery"), "dlv_10");
  EXPECT_EQ(last.at("status"), 401);
  EXPECT_EQ(last.at("signature"), "missing");

  // Without --log nothing is printed per request.
  options.log = false;
  out = RunReceiver(options, send, &code);
  EXPECT_TRUE(LinesWith(out, "attempt=").empty()) << out;
  EXPECT_TRUE(LinesWith(out, "\"path\"").empty()) << out;
}

}  // namespace
}  // namespace hooksim
