// /metrics of `hooksim receiver` and `hooksim worker --metrics-listen`,
// scraped over loopback and read with the Prometheus text-format rules
// (tests/prometheus_text.h): the counts must match the traffic sent.
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "mock-receivers/behavior_parser.h"
#include "mock-receivers/http/http_receiver_server.h"
#include "mock-receivers/receiver.h"
#include "sim/base/random.h"
#include "sim/contract/http_types.h"
#include "sim/contract/payload_validator.h"
#include "sim/contract/release_events.h"
#include "sim/durable/durable_delivery.h"
#include "sim/durable/state_store.h"
#include "tests/prometheus_text.h"
#include "tests/test_util.h"

namespace hooksim {
namespace {

using ::hooksim::testing::Cli;
using ::hooksim::testing::CliResult;

constexpr auto kWait = std::chrono::seconds(30);  // Bound, not a speed.

std::string JoinErrors(const prom::ParsedMetrics& m) {
  std::string out;
  for (const std::string& e : m.errors) out += e + "\n";
  return out;
}

// --- The reader itself must reject what breaks the format ----------------

TEST(PrometheusTextReader, AcceptsWellFormedTextAndUnescapesLabels) {
  const prom::ParsedMetrics m = prom::Parse(
      "# HELP a_total Things\\\\ done\\n twice\n"
      "# TYPE a_total counter\n"
      "a_total{k=\"q\\\"x\\\\y\\nz\"} 3\n"
      "# TYPE h histogram\n"
      "h_bucket{le=\"0.5\"} 1\nh_bucket{le=\"+Inf\"} 2\n"
      "h_sum 0.7\nh_count 2\n");
  EXPECT_TRUE(m.errors.empty()) << JoinErrors(m);
  EXPECT_EQ(m.Value("a_total", {{"k", "q\"x\\y\nz"}}), 3);
  EXPECT_EQ(m.families.at("a_total").help, "Things\\ done\n twice");
}

TEST(PrometheusTextReader, RejectsBrokenText) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"a 1\n", "no TYPEd family"},
      {"# TYPE a counter\na{k=\"v} 1\n", "unterminated"},
      {"# TYPE a counter\na{k=\"\\t\"} 1\n", "bad escape"},
      {"# TYPE a counter\na{1k=\"v\"} 1\n", "bad label name"},
      {"# TYPE a counter\na -1\n", "negative counter"},
      {"# TYPE a counter\n# TYPE a gauge\na 1\n", "second TYPE"},
      {"# TYPE a nonsense\na 1\n", "unknown type"},
      {"# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\n"
       "h_sum 1\nh_count 1\n",
       "not cumulative"},
      {"# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n",
       "+Inf"},
      {"# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n",
       "differs from _count"},
      {"# TYPE a counter\na 1", "newline"},
  };
  for (const auto& [text, want] : cases) {
    const prom::ParsedMetrics m = prom::Parse(text);
    EXPECT_NE(JoinErrors(m).find(want), std::string::npos)
        << "text:\n" << text << "want an error with: " << want
        << "\ngot:\n" << JoinErrors(m);
  }
}

// --- hooksim receiver ----------------------------------------------------

httplib::Client ClientFor(int port) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(std::chrono::seconds(5));
  client.set_read_timeout(std::chrono::seconds(5));
  return client;
}

prom::ParsedMetrics Scrape(int port, const std::string& token = "") {
  httplib::Client client = ClientFor(port);
  httplib::Headers headers;
  if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
  httplib::Result r = client.Get("/metrics", headers);
  prom::ParsedMetrics m;
  if (!r) {
    m.errors.push_back("no answer from /metrics");
    return m;
  }
  if (r->status != 200) {
    m.errors.push_back("status " + std::to_string(r->status));
    return m;
  }
  if (r->get_header_value("Content-Type").rfind("text/plain; version=0.0.4",
                                                0) != 0) {
    m.errors.push_back("content type " + r->get_header_value("Content-Type"));
  }
  prom::ParsedMetrics parsed = prom::Parse(r->body);
  if (!parsed.errors.empty()) parsed.errors.push_back("text:\n" + r->body);
  return parsed;
}

BehaviorSpec Behavior(const std::string& json) {
  Result<BehaviorSpec> spec = ParseBehavior(nlohmann::json::parse(json), "");
  EXPECT_TRUE(spec.ok()) << spec.error().ToString();
  return spec.ok() ? *spec : BehaviorSpec{};
}

std::string ValidBody() {
  ReleaseEventGenerator generator(ReleaseEventOptions{}, Random(3));
  return generator.Next().body;
}

// Three attempts of one delivery answered 503, 503, 200, and one more
// request whose body fails the schema, through a journal of one entry (so
// three entries are dropped) and a reset of the journal: every count is
// still there, and the receiver's name (quotes, backslash, newline) comes
// back unchanged through label escaping.
TEST(ReceiverMetrics, CountEveryRequestThroughJournalDropsAndResets) {
  Result<std::shared_ptr<CachedPayloadValidator>> validator =
      CachedPayloadValidator::Bundled();
  ASSERT_TRUE(validator.ok());
  const std::string name = "fl\"aky\\one\nx";
  ReceiverOptions options{name, {}, *validator};
  options.journal.capacity = 1;
  MockReceiver receiver(
      options, Behavior(R"({"sequence": [503, 503, 200], "per": "delivery"})"),
      Random(1));
  HttpReceiverServer server(receiver, HttpReceiverOptions{});
  ASSERT_TRUE(server.Start().ok());

  httplib::Client client = ClientFor(server.port());
  const std::string body = ValidBody();
  std::vector<int> statuses;
  for (int attempt = 1; attempt <= 3; ++attempt) {
    httplib::Headers h{{std::string(kDeliveryIdHeader), "dlv_one"},
                       {std::string(kAttemptHeader), std::to_string(attempt)}};
    httplib::Result r = client.Post("/hook", h, body, "application/json");
    ASSERT_TRUE(r);
    statuses.push_back(r->status);
  }
  EXPECT_EQ(statuses, (std::vector<int>{503, 503, 200}));
  httplib::Result bad = client.Post(
      "/hook", httplib::Headers{{std::string(kDeliveryIdHeader), "dlv_bad"}},
      R"({"not": "an event"})", "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 503);
  ASSERT_TRUE(client.Get("/__hooksim/stats"));
  ASSERT_TRUE(client.Post("/__hooksim/reset", "", "application/json"));

  prom::ParsedMetrics m = Scrape(server.port());
  ASSERT_TRUE(m.errors.empty()) << JoinErrors(m);
  const std::map<std::string, std::string> me = {{"receiver", name}};
  auto with = [&](std::map<std::string, std::string> labels) {
    labels.insert(me.begin(), me.end());
    return labels;
  };
  EXPECT_EQ(m.Value("hooksim_receiver_requests_total",
                    with({{"route", "webhook"}, {"status", "503"}})),
            3);
  EXPECT_EQ(m.Value("hooksim_receiver_requests_total",
                    with({{"route", "webhook"}, {"status", "200"}})),
            1);
  EXPECT_EQ(m.Value("hooksim_receiver_requests_total",
                    with({{"route", "/__hooksim/stats"}, {"status", "200"}})),
            1);
  EXPECT_EQ(m.Value("hooksim_receiver_requests_total",
                    with({{"route", "/__hooksim/reset"}, {"status", "200"}})),
            1);
  // The scrape does not count itself.
  EXPECT_EQ(m.Value("hooksim_receiver_requests_total",
                    with({{"route", "/metrics"}})),
            std::nullopt);
  EXPECT_EQ(m.Value("hooksim_receiver_request_duration_seconds_count",
                    with({{"route", "webhook"}})),
            4);
  EXPECT_EQ(m.Value("hooksim_receiver_request_duration_seconds_bucket",
                    with({{"route", "webhook"}, {"le", "+Inf"}})),
            4);
  EXPECT_EQ(m.Value("hooksim_receiver_schema_failures_total", me), 1);
  EXPECT_EQ(m.Value("hooksim_receiver_signature_failures_total", me), 0);
  EXPECT_EQ(m.Value("hooksim_receiver_journal_dropped_total", me), 3);
  // The scrape's own connection at least.
  const std::optional<double> open =
      m.Value("hooksim_receiver_open_connections", me);
  ASSERT_TRUE(open);
  EXPECT_GE(*open, 1);
  EXPECT_EQ(m.families.at("hooksim_receiver_requests_total").type, "counter");
  EXPECT_EQ(m.families.at("hooksim_receiver_request_duration_seconds").type,
            "histogram");
  EXPECT_EQ(m.families.at("hooksim_receiver_open_connections").type, "gauge");

  // The next scrape sees the first one.
  m = Scrape(server.port());
  ASSERT_TRUE(m.errors.empty()) << JoinErrors(m);
  EXPECT_EQ(m.Value("hooksim_receiver_requests_total",
                    with({{"route", "/metrics"}, {"status", "200"}})),
            1);
  server.Stop();
}

// A request refused before routing (413) and one failing the signature
// check are counted; with an admin token, /metrics needs it too.
TEST(ReceiverMetrics, CountsRefusalsAndSignatureFailuresBehindTheAdminToken) {
  MockReceiver receiver(
      ReceiverOptions{"signed", {}, nullptr},
      Behavior(R"({"status": 200, "verify_signature": )"
               R"("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"})"),
      Random(1));
  HttpReceiverOptions hopts;
  hopts.admin_token = "s3cret";
  hopts.max_body_bytes = 64;
  HttpReceiverServer server(receiver, hopts);
  ASSERT_TRUE(server.Start().ok());
  httplib::Client client = ClientFor(server.port());
  httplib::Result unsigned_post =
      client.Post("/hook", R"({"event":"release"})", "application/json");
  ASSERT_TRUE(unsigned_post);
  EXPECT_NE(unsigned_post->status, 200);
  httplib::Result too_large =
      client.Post("/hook", std::string(1000, 'x'), "application/json");
  ASSERT_TRUE(too_large);
  EXPECT_EQ(too_large->status, 413);

  httplib::Client anonymous = ClientFor(server.port());
  httplib::Result refused = anonymous.Get("/metrics");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401);

  const prom::ParsedMetrics m = Scrape(server.port(), "s3cret");
  ASSERT_TRUE(m.errors.empty()) << JoinErrors(m);
  EXPECT_EQ(m.Value("hooksim_receiver_signature_failures_total"), 1);
  EXPECT_EQ(m.Value("hooksim_receiver_requests_total",
                    {{"route", "refused"}, {"status", "413"}}),
            1);
  EXPECT_EQ(m.Value("hooksim_receiver_requests_total",
                    {{"route", "/metrics"}, {"status", "401"}}),
            1);
  server.Stop();
}

// --- hooksim worker --metrics-listen --------------------------------------

class WorkerMetricsTest : public ::testing::Test {
 protected:
  WorkerMetricsTest() {
    char tmpl[] = "/tmp/hooksim_metrics_XXXXXX";
    dir_ = mkdtemp(tmpl);
    state_ = dir_ + "/state.db";
  }
  ~WorkerMetricsTest() override { std::filesystem::remove_all(dir_); }

  std::string dir_;
  std::string state_;
};

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

pid_t SpawnHooksim(const std::vector<std::string>& args,
                   const std::string& log) {
  const pid_t pid = fork();
  if (pid == 0) {
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(HOOKSIM_BINARY));
    for (const std::string& a : args) {
      argv.push_back(const_cast<char*>(a.c_str()));
    }
    argv.push_back(nullptr);
    execv(HOOKSIM_BINARY, argv.data());
    _exit(127);
  }
  return pid;
}

int ReapWithin(pid_t pid, std::chrono::seconds bound) {
  const auto until = std::chrono::steady_clock::now() + bound;
  int status = 0;
  while (std::chrono::steady_clock::now() < until) {
    if (waitpid(pid, &status, WNOHANG) == pid) {
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  return -1;
}

// One delivery whose lease a crashed runner left behind, to a receiver
// answering 503, 503, 200: the worker takes it over and makes three
// attempts; both /metrics say so.
TEST_F(WorkerMetricsTest, ScrapedCountsMatchTheTraffic) {
  MockReceiver receiver(
      ReceiverOptions{"flaky", {}, nullptr},
      Behavior(R"({"sequence": [503, 503, 200], "per": "delivery"})"),
      Random(1));
  HttpReceiverServer server(receiver, HttpReceiverOptions{});
  ASSERT_TRUE(server.Start().ok());
  const CliResult added =
      Cli({"hooks", "add", server.base_url() + "/hook", "--state", state_});
  ASSERT_EQ(added.code, 0) << added.err;
  {
    Result<std::unique_ptr<StateStore>> store = StateStore::Open(state_);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE(
        (*store)->Enqueue({{"release", ValidBody()}}, WallNowMs()).ok());
    // A runner that claimed it and died: its lease ended 10 s ago.
    ClaimOptions claim;
    claim.lease_ms = 1;
    Result<ClaimResult> claimed =
        (*store)->Claim("crashed-runner", claim, WallNowMs() - 10'000);
    ASSERT_TRUE(claimed.ok());
    ASSERT_EQ(claimed->deliveries.size(), 1u);
  }
  const std::string log = dir_ + "/worker.log";
  const pid_t pid = SpawnHooksim(
      {"worker", "--state", state_, "--poll-ms", "20", "--retry-schedule-ms",
       "10,10,10,10,10", "--metrics-listen", "127.0.0.1:0"},
      log);
  ASSERT_GT(pid, 0);
  // The chosen port, from the worker's first line (bounded wait).
  int port = 0;
  const std::regex url("worker: metrics at http://127\\.0\\.0\\.1:([0-9]+)/metrics");
  for (auto until = std::chrono::steady_clock::now() + kWait;
       port == 0 && std::chrono::steady_clock::now() < until;) {
    std::smatch match;
    const std::string text = ReadAll(log);
    if (std::regex_search(text, match, url)) {
      port = std::stoi(match[1]);
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  ASSERT_GT(port, 0) << ReadAll(log);
  // Until the delivery is recorded delivered (bounded).
  prom::ParsedMetrics m;
  for (auto until = std::chrono::steady_clock::now() + kWait;
       std::chrono::steady_clock::now() < until;) {
    m = Scrape(port);
    if (m.Value("hooksim_worker_deliveries", {{"state", "delivered"}}) == 1) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(m.errors.empty()) << JoinErrors(m);
  EXPECT_EQ(m.Value("hooksim_worker_deliveries", {{"state", "delivered"}}), 1)
      << ReadAll(log);
  EXPECT_EQ(m.Value("hooksim_worker_deliveries", {{"state", "pending"}}), 0);
  EXPECT_EQ(m.Value("hooksim_worker_deliveries", {{"state", "gave_up"}}), 0);
  EXPECT_EQ(m.Value("hooksim_worker_attempts_total", {{"outcome", "5xx"}}), 2);
  EXPECT_EQ(m.Value("hooksim_worker_attempts_total", {{"outcome", "2xx"}}), 1);
  EXPECT_EQ(m.Value("hooksim_worker_attempt_duration_seconds_count"), 3);
  EXPECT_EQ(m.Value("hooksim_worker_attempt_duration_seconds_bucket",
                    {{"le", "+Inf"}}),
            3);
  EXPECT_EQ(m.Value("hooksim_worker_lease_takeovers_total"), 1);
  EXPECT_EQ(m.Value("hooksim_worker_queue_due"), 0);
  EXPECT_EQ(m.Value("hooksim_worker_queue_leased"), 0);
  EXPECT_EQ(m.Value("hooksim_worker_queue_errors_total"), 0);
  EXPECT_EQ(m.families.at("hooksim_worker_deliveries").type, "gauge");
  EXPECT_EQ(m.families.at("hooksim_worker_attempt_duration_seconds").type,
            "histogram");

  // The receiver saw the same three attempts.
  const prom::ParsedMetrics r = Scrape(server.port());
  ASSERT_TRUE(r.errors.empty()) << JoinErrors(r);
  EXPECT_EQ(r.Value("hooksim_receiver_requests_total",
                    {{"route", "webhook"}, {"status", "503"}}),
            2);
  EXPECT_EQ(r.Value("hooksim_receiver_requests_total",
                    {{"route", "webhook"}, {"status", "200"}}),
            1);

  kill(pid, SIGTERM);
  EXPECT_EQ(ReapWithin(pid, kWait), 0) << ReadAll(log);
  server.Stop();
}

// The queue the worker's gauges show: due (claimable now), leased (under a
// live lease), by state; and a claim of an expired lease is a takeover.
TEST_F(WorkerMetricsTest, DepthCountsDueLeasedAndStatesAndClaimsMarkTakeovers) {
  StoreOptions create;
  create.create = true;
  Result<std::unique_ptr<StateStore>> opened = StateStore::Open(state_, create);
  ASSERT_TRUE(opened.ok()) << opened.error().ToString();
  StateStore& store = **opened;
  ASSERT_TRUE(store.AddHook("http://127.0.0.1:9/a", "", 1).ok());
  const int64_t now = 1'000'000;
  ASSERT_TRUE(store.Enqueue({{"release", R"({"n":1})"},
                             {"release", R"({"n":2})"},
                             {"release", R"({"n":3})"}},
                            now)
                  .ok());
  Result<QueueDepth> depth = store.Depth(now);
  ASSERT_TRUE(depth.ok()) << depth.error().ToString();
  EXPECT_EQ(depth->by_state.pending, 3);
  EXPECT_EQ(depth->due, 3);
  EXPECT_EQ(depth->leased, 0);

  ClaimOptions one;
  one.limit = 1;
  one.lease_ms = 1000;
  Result<ClaimResult> first = store.Claim("runner-a", one, now);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->deliveries.size(), 1u);
  EXPECT_FALSE(first->deliveries[0].taken_over) << "nobody held it";
  depth = store.Depth(now + 10);
  ASSERT_TRUE(depth.ok());
  EXPECT_EQ(depth->due, 2);
  EXPECT_EQ(depth->leased, 1);
  EXPECT_EQ(depth->by_state.pending, 3);

  // After runner-a's lease ended, runner-b claims everything: one takeover.
  Result<ClaimResult> all = store.Claim("runner-b", ClaimOptions{}, now + 5000);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->deliveries.size(), 3u);
  int takeovers = 0;
  for (const ClaimedDelivery& d : all->deliveries) takeovers += d.taken_over;
  EXPECT_EQ(takeovers, 1);
  depth = store.Depth(now + 5001);
  ASSERT_TRUE(depth.ok());
  EXPECT_EQ(depth->due, 0);
  EXPECT_EQ(depth->leased, 3);
}

TEST_F(WorkerMetricsTest, BadListenValueIsAUsageErrorNamingFlagAndValue) {
  for (const std::string bad : {"nope", "127.0.0.1:70000", ":9100"}) {
    const CliResult r = Cli({"worker", "--metrics-listen", bad});
    EXPECT_EQ(r.code, 2) << bad << "\n" << r.err;
    EXPECT_NE(r.err.find("--metrics-listen"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("\"" + bad + "\""), std::string::npos) << r.err;
  }
}

TEST_F(WorkerMetricsTest, PortInUseIsAClearError) {
  const CliResult added =
      Cli({"hooks", "add", "http://127.0.0.1:9/hook", "--state", state_});
  ASSERT_EQ(added.code, 0) << added.err;
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string where = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  const CliResult r =
      Cli({"worker", "--state", state_, "--metrics-listen", where});
  close(fd);
  EXPECT_EQ(r.code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("--metrics-listen " + where), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("Address already in use"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace hooksim
