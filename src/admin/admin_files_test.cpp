// SPDX-License-Identifier: MIT
// The /admin path grammar and file reader: nothing outside the directory, no device, no FIFO.
#include "admin/admin_files.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace ssecast::admin {
namespace {

namespace fs = std::filesystem;

TEST(AdminRelativePath, AcceptsTheBuiltUiNames) {
    EXPECT_EQ(admin_relative_path(""), "index.html");
    EXPECT_EQ(admin_relative_path("index.html"), "index.html");
    EXPECT_EQ(admin_relative_path("assets/index-3fA_9b-x.js"), "assets/index-3fA_9b-x.js");
}

TEST(AdminRelativePath, RefusesEveryEscapeShape) {
    for (const char* bad :
         {"/etc/hostname", "//etc/hostname", "../etc/passwd", "assets/../../x", "..", ".",
          "./index.html", "assets/./x.js", "assets//x.js", "assets/", ".env", "assets/.git",
          "%2e%2e/x", "a\\b", "a b", "index.html?x", "a:b"}) {
        EXPECT_FALSE(admin_relative_path(bad)) << bad;
    }
    EXPECT_FALSE(admin_relative_path(std::string_view("index.html\0x", 12)));
    EXPECT_FALSE(admin_relative_path(std::string(kMaxAdminPathBytes + 1, 'a')));
    EXPECT_FALSE(admin_relative_path("a/b/c/d/e/f/g/h/i"));
    EXPECT_TRUE(admin_relative_path("a/b/c/d/e/f/g/h"));
}

class AdminFilesTest : public ::testing::Test {
  protected:
    void SetUp() override {
        root_ = fs::temp_directory_path() / ("admin-files-test-" + std::to_string(::getpid()));
        fs::create_directories(root_ / "dist" / "assets");
        std::ofstream(root_ / "dist" / "index.html") << "<p>ui</p>";
        std::ofstream(root_ / "dist" / "assets" / "app.js") << "x=1";
        std::ofstream(root_ / "secret.txt") << "jwt_secret";
    }
    void TearDown() override { fs::remove_all(root_); }
    fs::path root_;
};

TEST_F(AdminFilesTest, ServesRegularFilesUnderTheDirectory) {
    const AdminFiles files(root_ / "dist");
    ASSERT_TRUE(files.built());
    const auto index = files.read("");
    ASSERT_TRUE(index);
    EXPECT_EQ(index->body, "<p>ui</p>");
    EXPECT_EQ(index->content_type, "text/html; charset=utf-8");
    EXPECT_FALSE(index->immutable);
    const auto js = files.read("assets/app.js");
    ASSERT_TRUE(js);
    EXPECT_TRUE(js->immutable);
    EXPECT_FALSE(files.read("missing.js"));
    EXPECT_FALSE(files.read("assets")); // a directory
}

TEST_F(AdminFilesTest, RefusesSymlinksOutDevicesFifosAndHugeFiles) {
    const AdminFiles files(root_ / "dist");
    fs::create_symlink(root_ / "secret.txt", root_ / "dist" / "out.txt");
    fs::create_symlink("/dev/zero", root_ / "dist" / "zero");
    fs::create_directory_symlink("/etc", root_ / "dist" / "etc");
    ASSERT_EQ(::mkfifo((root_ / "dist" / "fifo").c_str(), 0600), 0);
    { std::ofstream big(root_ / "dist" / "big.js"); }
    fs::resize_file(root_ / "dist" / "big.js", kMaxAdminFileBytes + 1);
    EXPECT_FALSE(files.read("out.txt"));
    EXPECT_FALSE(files.read("zero"));
    EXPECT_FALSE(files.read("etc/hostname"));
    EXPECT_FALSE(files.read("fifo")); // and did not block
    EXPECT_FALSE(files.read("big.js"));
    // A symlink that stays inside is an ordinary name for a file in the directory.
    fs::create_symlink(root_ / "dist" / "index.html", root_ / "dist" / "alias.html");
    EXPECT_TRUE(files.read("alias.html"));
}

TEST(AdminFiles, MissingDirectoryServesNothing) {
    const AdminFiles files("/nonexistent/ssecast-admin");
    EXPECT_FALSE(files.built());
    EXPECT_FALSE(files.read("index.html"));
}

} // namespace
} // namespace ssecast::admin
