#include "sim/report/junit_writer.h"

#include <gtest/gtest.h>

#include <sstream>

namespace hooksim {
namespace {

TEST(JUnitWriterTest, EscapesTextAndReplacesForbiddenBytes) {
  EXPECT_EQ(XmlEscape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
  EXPECT_EQ(XmlEscape(std::string("x\x01y", 3)), "x\xEF\xBF\xBDy");
  EXPECT_EQ(XmlEscape("caf\xC3\xA9"), "caf\xC3\xA9");  // Valid UTF-8 kept.
  EXPECT_EQ(XmlEscape("\xC3"), "\xEF\xBF\xBD");        // Truncated sequence.
  EXPECT_EQ(XmlEscape("tab\tnl\n"), "tab\tnl\n");
}

TEST(JUnitWriterTest, WritesTheStructureCiSystemsRead) {
  JUnitSuite suite{"scen<1>", 1.5, {}};
  suite.cases.push_back({"hooksim.run.s", "C1 ok", 0.1,
                         JUnitCase::Status::kPassed, "", "", "", ""});
  suite.cases.push_back({"hooksim.run.s", "C6 retries", 0.2,
                         JUnitCase::Status::kFailed, "2 of 3 failed",
                         "expected 6 & got 4", "note", ""});
  suite.cases.push_back({"hooksim.run.s", "C8 err", 0,
                         JUnitCase::Status::kError, "crashed", "", "", "boom"});
  suite.cases.push_back({"hooksim.run.s", "skip", 0,
                         JUnitCase::Status::kSkipped, "n/a", "", "", ""});
  std::ostringstream out;
  WriteJUnit({suite}, out);
  const std::string xml = out.str();
  EXPECT_EQ(xml.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", 0), 0u);
  EXPECT_NE(xml.find("<testsuites name=\"hooksim\" tests=\"4\" failures=\"1\" "
                     "errors=\"1\" skipped=\"1\" time=\"1.500\">"),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("<testsuite name=\"scen&lt;1&gt;\" tests=\"4\" "
                     "failures=\"1\" errors=\"1\" skipped=\"1\" time=\"1.500\">"),
            std::string::npos);
  EXPECT_NE(xml.find("<testcase classname=\"hooksim.run.s\" name=\"C1 ok\" "
                     "time=\"0.100\"/>"),
            std::string::npos);
  EXPECT_NE(xml.find("<failure message=\"2 of 3 failed\" type=\"failure\">"
                     "expected 6 &amp; got 4</failure>"),
            std::string::npos);
  EXPECT_NE(xml.find("<system-out>note</system-out>"), std::string::npos);
  EXPECT_NE(xml.find("<error message=\"crashed\" type=\"error\"/>"),
            std::string::npos);
  EXPECT_NE(xml.find("<system-err>boom</system-err>"), std::string::npos);
  EXPECT_NE(xml.find("<skipped message=\"n/a\"/>"), std::string::npos);
  EXPECT_NE(xml.find("</testsuites>\n"), std::string::npos);
}

TEST(JUnitWriterTest, RepeatedNamesAreMadeUniqueAndOutputEscaped) {
  JUnitSuite suite{"conform", 0, {}};
  for (int i = 0; i < 3; ++i) {
    suite.cases.push_back({"conform.a", "a/attempts", 0,
                           JUnitCase::Status::kPassed, "", "", "", ""});
  }
  suite.cases.push_back({"conform.b", "a/attempts", 0,
                         JUnitCase::Status::kFailed, "m", "",
                         std::string("out\x1b[31m<red>") + '\0', "err & more"});
  std::ostringstream out;
  WriteJUnit({suite}, out);
  const std::string xml = out.str();
  EXPECT_NE(xml.find("name=\"a/attempts\" "), std::string::npos);
  EXPECT_NE(xml.find("name=\"a/attempts (2)\""), std::string::npos);
  EXPECT_NE(xml.find("name=\"a/attempts (3)\""), std::string::npos);
  // Another classname may reuse the name.
  EXPECT_NE(xml.find("classname=\"conform.b\" name=\"a/attempts\" "),
            std::string::npos);
  EXPECT_EQ(xml.find("(4)"), std::string::npos);
  // Terminal escapes and NUL from a sender's output become U+FFFD.
  EXPECT_NE(xml.find("<system-out>out\xEF\xBF\xBD[31m&lt;red&gt;\xEF\xBF\xBD"
                     "</system-out>"),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("<system-err>err &amp; more</system-err>"),
            std::string::npos);
  for (char c : xml) {
    const unsigned char u = static_cast<unsigned char>(c);
    EXPECT_FALSE(u < 0x20 && c != '\n' && c != '\t' && c != '\r');
  }
}

}  // namespace
}  // namespace hooksim
