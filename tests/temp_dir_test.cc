#include "sim/os/temp_dir.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace hooksim {
namespace {

TEST(TempDirTest, CreatesAFreshDirectoryAndRemovesItWithItsFiles) {
  std::string path;
  {
    TempDir a("hooksim-temp-dir-test");
    TempDir b("hooksim-temp-dir-test");
    ASSERT_TRUE(a.ok());
    ASSERT_TRUE(b.ok());
    EXPECT_NE(a.path(), b.path());
    EXPECT_TRUE(std::filesystem::is_directory(a.path()));
    EXPECT_NE(a.path().find("/hooksim-temp-dir-test-"), std::string::npos);
    EXPECT_EQ(a.File("x.json"), a.path() + "/x.json");
    std::filesystem::create_directories(a.path() + "/sub");
    std::ofstream(a.File("sub/file")) << "data";
    path = a.path();
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(TempDirTest, ReportsWhenTheDirectoryCannotBeCreated) {
  TempDir dir("no/such/parent/for/this");
  EXPECT_FALSE(dir.ok());
  EXPECT_TRUE(dir.path().empty());
}

}  // namespace
}  // namespace hooksim
