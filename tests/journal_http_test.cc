// The full journal over real HTTP: refusals recorded, connections named,
// the admin API's 405 with Allow, --admin-listen's separation, and the
// durable journal file surviving a SIGKILL, judged by `hooksim judge`.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>

#include "mock-receivers/http/connection_faults.h"
#include "mock-receivers/http/http_receiver_server.h"
#include "sim/os/temp_dir.h"
#include "tests/test_util.h"

extern char** environ;

namespace hooksim {
namespace {

using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;
constexpr auto kPatience = std::chrono::seconds(10);

bool Eventually(const std::function<bool()>& condition) {
  const auto deadline = SteadyClock::now() + kPatience;
  while (SteadyClock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return condition();
}

httplib::Client ClientFor(int port) {
  httplib::Client client("127.0.0.1", port);
  client.set_tcp_nodelay(true);
  client.set_connection_timeout(std::chrono::seconds(5));
  client.set_read_timeout(std::chrono::seconds(5));
  client.set_write_timeout(std::chrono::seconds(5));
  return client;
}

BehaviorSpec Always(int status) {
  BehaviorSpec spec;
  spec.answers = FixedAnswer{Answer{status, Fault::kNone}};
  return spec;
}

std::vector<JournalEntry> Entries(const MockReceiver& receiver) {
  std::vector<JournalEntry> out;
  receiver.WithJournal([&](const Journal& j) { out = j.Recent(); });
  return out;
}

TEST(JournalHttpTest, HeadersAndConnectionsAreJournaled) {
  MockReceiver receiver(ReceiverOptions{"j", {}, nullptr}, Always(200),
                        Random(1));
  HttpReceiverServer server(receiver, {});
  ASSERT_TRUE(server.Start().ok());
  {
    httplib::Client a = ClientFor(server.port());
    a.set_keep_alive(true);
    const httplib::Headers h = {{"X-Idempotency-Key", "k-1"},
                                {"User-Agent", "my-sender/2.0"}};
    ASSERT_TRUE(a.Post("/hook?x=1", h, "{}", "application/json"));
    ASSERT_TRUE(a.Post("/hook", h, "{}", "application/json"));
    httplib::Client b = ClientFor(server.port());
    ASSERT_TRUE(b.Post("/hook", "{}", "application/json"));
  }
  server.Stop();
  const std::vector<JournalEntry> e = Entries(receiver);
  ASSERT_EQ(e.size(), 3u);
  bool has_key = false;
  bool has_agent = false;
  for (const JournalHeader& h : e[0].headers) {
    has_key = has_key || (h.name == "X-Idempotency-Key" && h.value == "k-1");
    has_agent = has_agent || (h.name == "User-Agent" && h.value == "my-sender/2.0");
  }
  EXPECT_TRUE(has_key);
  EXPECT_TRUE(has_agent);
  EXPECT_EQ(e[0].target, "/hook?x=1");
  EXPECT_NE(e[0].connection, 0u);
  EXPECT_EQ(e[0].connection, e[1].connection);  // One keep-alive connection.
  EXPECT_NE(e[2].connection, e[0].connection);
}

TEST(JournalHttpTest, HeadTimeoutIs408AndJournaled) {
  MockReceiver receiver(ReceiverOptions{"j", {}, nullptr}, Always(200),
                        Random(1));
  HttpReceiverOptions options;
  options.header_timeout = std::chrono::milliseconds(200);
  HttpReceiverServer server(receiver, options);
  ASSERT_TRUE(server.Start().ok());
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(server.port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_TRUE(SendAll(fd, "POST /slow HTTP/1.1\r\nHost: x\r\nX-Hooksim-Delivery: dd\r\n",
                      std::chrono::milliseconds(2000)));
  EXPECT_TRUE(Eventually([&] { return !Entries(receiver).empty(); }));
  close(fd);
  server.Stop();
  const std::vector<JournalEntry> e = Entries(receiver);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].refusal, Refusal::kTimeout);
  EXPECT_EQ(e[0].reply.answer.status, 408);
  EXPECT_EQ(e[0].method, "POST");
  EXPECT_EQ(e[0].target, "/slow");
  EXPECT_EQ(e[0].delivery_key, "dd");
}

TEST(JournalHttpTest, AdminWrongMethodIs405WithAllowHeader) {
  MockReceiver receiver(ReceiverOptions{"j", {}, nullptr}, Always(200),
                        Random(1));
  HttpReceiverServer server(receiver, {});
  ASSERT_TRUE(server.Start().ok());
  httplib::Client c = ClientFor(server.port());
  auto r = c.Get("/__hooksim/verify");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->get_header_value("Allow"), "POST");
  r = c.Put("/__hooksim/reset", "", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->get_header_value("Allow"), "POST");
  r = c.Post("/__hooksim/reset");  // No body at all.
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  r = c.Get("/__hooksim/requests.jsonl");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/x-ndjson");
  server.Stop();
}

TEST(JournalHttpTest, AdminListenSeparatesTheAdminApi) {
  MockReceiver receiver(ReceiverOptions{"j", {}, nullptr}, Always(200),
                        Random(1));
  HttpReceiverOptions main_options;
  main_options.admin = AdminMode::kElsewhere;
  HttpReceiverServer main(receiver, main_options);
  HttpReceiverOptions admin_options;
  admin_options.admin = AdminMode::kOnly;
  HttpReceiverServer admin(receiver, admin_options);
  ASSERT_TRUE(main.Start().ok());
  ASSERT_TRUE(admin.Start().ok());
  httplib::Client m = ClientFor(main.port());
  httplib::Client a = ClientFor(admin.port());
  auto r = m.Post("/hook", "{}", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  r = m.Get("/__hooksim/stats");  // Not on the receiver's port.
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_NE(r->body.find("--admin-listen"), std::string::npos);
  r = a.Post("/hook", "{}", "application/json");  // Not a webhook here.
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  r = a.Get("/__hooksim/stats");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  // Only the webhook sent to the receiver's port was journaled.
  EXPECT_EQ(json::parse(r->body)["requests"], 1);
  admin.Stop();
  main.Stop();
}

TEST(JournalHttpTest, JournalFileThatCannotBeOpenedIsAnErrorAtStart) {
  const testing::CliResult r =
      testing::Cli({"receiver", "--listen", "127.0.0.1:0", "--journal-file",
                    "/nonexistent-dir-hooksim/journal.jsonl"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--journal-file: /nonexistent-dir-hooksim/journal.jsonl"),
            std::string::npos)
      << r.err;
}

// The built binary with --journal-file, killed with SIGKILL: every request
// it answered is a whole line in the file, and `hooksim judge` reads it.
TEST(JournalHttpTest, JournalFileSurvivesSigkillAndIsJudged) {
  TempDir dir("journal-test");
  ASSERT_TRUE(dir.ok());
  const std::string file = dir.File("journal.jsonl");
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
  std::vector<std::string> args = {
      HOOKSIM_BINARY, "receiver", "--listen", "127.0.0.1:0", "--behavior",
      R"({"sequence":[503,200],"per":"delivery"})", "--journal-file", file};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, HOOKSIM_BINARY, &actions, nullptr, argv.data(),
                        environ),
            0);
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_fds[1]);
  std::string output;
  const auto deadline = SteadyClock::now() + kPatience;
  char buf[1024];
  while (output.find("serving") == std::string::npos &&
         SteadyClock::now() < deadline) {
    pollfd p{pipe_fds[0], POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    const ssize_t n = read(pipe_fds[0], buf, sizeof(buf));
    if (n <= 0) break;
    output.append(buf, static_cast<size_t>(n));
  }
  int port = 0;
  const std::string marker = "http://127.0.0.1:";
  if (const size_t at = output.find(marker); at != std::string::npos) {
    port = std::stoi(output.substr(at + marker.size()));
  }
  int answered = 0;
  if (port > 0) {
    httplib::Client c = ClientFor(port);
    const std::string body = R"({"event":"ping","data":{}})";
    for (const char* id : {"dlv_a", "dlv_b"}) {
      const httplib::Headers h = {{"X-Hooksim-Delivery", id}};
      for (int attempt = 0; attempt < 2; ++attempt) {
        auto r = c.Post("/hook", h, body, "application/json");
        if (r) ++answered;
      }
    }
  } else {
    ADD_FAILURE() << "no URL printed: " << output;
  }
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  close(pipe_fds[0]);
  EXPECT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(answered, 4);

  std::ifstream in(file);
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) {
    const json doc = json::parse(line);  // Whole lines only.
    EXPECT_EQ(doc["receiver"], "default");
    ++lines;
  }
  EXPECT_EQ(lines, 4);

  // Two deliveries, each 503 then 200: attempts stop at the first 2xx.
  // Under divshot a delivery with a 2xx passes C5/C6.
  const testing::CliResult judged = testing::Cli({"judge", file});
  EXPECT_EQ(judged.code, 0) << judged.out << judged.err;
  EXPECT_NE(judged.out.find("PASS"), std::string::npos) << judged.out;
  EXPECT_NE(judged.out.find("4 requests"), std::string::npos) << judged.out;
}

}  // namespace
}  // namespace hooksim
