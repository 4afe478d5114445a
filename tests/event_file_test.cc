#include "sim/contract/event_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <string>

namespace hooksim {
namespace {

TEST(EventFileTest, OneEventPerLineBodiesKeptByteForByte) {
  const std::string text =
      "{\"event\":\"release\",\"data\":{\"a\": 1}}\n"
      "\n"
      "  \n"
      "{ \"data\":{}, \"event\" : \"deploy\" }\r\n"
      "{\"data\":{}}";  // No final newline, no event.
  Result<std::vector<FileEvent>> events = ParseEventFile(text, "f.jsonl");
  ASSERT_TRUE(events.ok()) << events.error().ToString();
  ASSERT_EQ(events->size(), 3u);
  EXPECT_EQ((*events)[0].type, "release");
  EXPECT_EQ((*events)[0].body, "{\"event\":\"release\",\"data\":{\"a\": 1}}");
  EXPECT_EQ((*events)[1].type, "deploy");
  EXPECT_EQ((*events)[1].body, "{ \"data\":{}, \"event\" : \"deploy\" }");
  EXPECT_EQ((*events)[2].type, "unknown");
}

TEST(EventFileTest, ErrorsNameTheFileAndLine) {
  struct Case {
    std::string text;
    std::string message;
  } cases[] = {
      {"{\"event\":\"a\"}\n{nope\n", "f.jsonl: line 2: not a JSON document"},
      {"\n[1,2]\n", "f.jsonl: line 2: expected a JSON object, got array"},
      {"", "f.jsonl: holds no event"},
      {"\n \n", "f.jsonl: holds no event"},
  };
  for (const Case& c : cases) {
    Result<std::vector<FileEvent>> events = ParseEventFile(c.text, "f.jsonl");
    ASSERT_FALSE(events.ok()) << c.text;
    EXPECT_NE(events.error().ToString().find(c.message), std::string::npos)
        << events.error().ToString();
  }
}

TEST(EventFileTest, WriteThenReadRoundTrips) {
  char path[] = "/tmp/hooksim_event_file_XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  const std::vector<std::string> bodies = {R"({"event":"release","data":{}})",
                                           R"({"event":"x","data":{"k":"v"}})"};
  ASSERT_TRUE(WriteEventFile(path, bodies).ok());
  Result<std::vector<FileEvent>> events = ReadEventFile(path);
  ASSERT_TRUE(events.ok()) << events.error().ToString();
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[0].body, bodies[0]);
  EXPECT_EQ((*events)[1].body, bodies[1]);
  EXPECT_FALSE(WriteEventFile(path, {"a\nb"}).ok());
  std::remove(path);
  Result<std::vector<FileEvent>> missing = ReadEventFile(path);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().ToString().find("cannot open"), std::string::npos);
}

}  // namespace
}  // namespace hooksim
