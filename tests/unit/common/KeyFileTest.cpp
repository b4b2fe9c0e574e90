#include "KeyFile.h"

#include "TempDir.h"

#include <Poco/Exception.h>

#include <cppunit/extensions/HelperMacros.h>

#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

using peerchat::KeyFile;
using peerchat::SigningKey;
using peerchat::test::TempDir;

namespace {

mode_t modeOf(const std::string& path)
{
    struct stat st {};
    CPPUNIT_ASSERT_EQUAL(0, ::stat(path.c_str(), &st));
    return st.st_mode & 07777;
}

std::string contentOf(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

void writeFile(const std::string& path, const std::string& content, mode_t mode)
{
    std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
    CPPUNIT_ASSERT_EQUAL(0, ::chmod(path.c_str(), mode));
}

// The message loadOrCreate refuses path with; fails when it does not refuse.
std::string refusal(const std::string& path)
{
    try {
        KeyFile::loadOrCreate(path);
    } catch (const Poco::Exception& e) {
        return e.displayText();
    }
    CPPUNIT_FAIL("accepted " + path);
    return {};
}

void assertMentions(const std::string& message, const std::string& part)
{
    CPPUNIT_ASSERT_MESSAGE("'" + message + "' does not mention '" + part + "'", message.find(part) != std::string::npos);
}

std::size_t entriesIn(const std::string& dir)
{
    std::size_t count = 0;
    DIR* handle = ::opendir(dir.c_str());
    CPPUNIT_ASSERT(handle != nullptr);
    while (const dirent* entry = ::readdir(handle))
        if (std::string(entry->d_name) != "." && std::string(entry->d_name) != "..") ++count;
    ::closedir(handle);
    return count;
}

// Sets an environment variable for one test and puts the old value back.
class ScopedEnv
{
public:
    ScopedEnv(const char* name, const char* value) : _name(name)
    {
        if (const char* old = std::getenv(name)) _old = old;
        if (value)
            ::setenv(name, value, 1);
        else
            ::unsetenv(name);
    }
    ~ScopedEnv()
    {
        if (_old)
            ::setenv(_name, _old->c_str(), 1);
        else
            ::unsetenv(_name);
    }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
    const char* _name;
    std::optional<std::string> _old;
};

const std::string kGoodLine = "peerchat-ed25519 nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A\n";

} // namespace

class KeyFileTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(KeyFileTest);
    CPPUNIT_TEST(testCreateThenLoadSameKey);
    CPPUNIT_TEST(testCreatePrivateFileAndDirectories);
    CPPUNIT_TEST(testLoadKnownFile);
    CPPUNIT_TEST(testRefuseFileOthersCanRead);
    CPPUNIT_TEST(testRefuseGarbage);
    CPPUNIT_TEST(testRefuseDirectory);
    CPPUNIT_TEST(testRefuseFifo);
    CPPUNIT_TEST(testRefuseDanglingLink);
    CPPUNIT_TEST(testRefuseDirectoryOthersCanWrite);
    CPPUNIT_TEST(testRefuseUnwritableDirectory);
    CPPUNIT_TEST(testDefaultPathFollowsXdg);
    CPPUNIT_TEST_SUITE_END();

public:
    void testCreateThenLoadSameKey()
    {
        TempDir dir;
        const std::string path = dir.file("alice.key");
        bool created = false;
        const SigningKey made = KeyFile::loadOrCreate(path, &created);
        CPPUNIT_ASSERT(created);
        const SigningKey loaded = KeyFile::loadOrCreate(path, &created);
        CPPUNIT_ASSERT(!created);
        CPPUNIT_ASSERT(loaded.publicKey() == made.publicKey());
        CPPUNIT_ASSERT(loaded.seed() == made.seed());
        CPPUNIT_ASSERT(KeyFile::loadOrCreate(dir.file("bob.key")).publicKey() != made.publicKey());
    }

    void testCreatePrivateFileAndDirectories()
    {
        TempDir dir;
        const std::string path = dir.file("config/peerchat/alice.key");
        const SigningKey key = KeyFile::loadOrCreate(path);
        CPPUNIT_ASSERT_EQUAL(mode_t{0700}, modeOf(dir.file("config")));
        CPPUNIT_ASSERT_EQUAL(mode_t{0700}, modeOf(dir.file("config/peerchat")));
        CPPUNIT_ASSERT_EQUAL(mode_t{0600}, modeOf(path));
        const std::string content = contentOf(path);
        CPPUNIT_ASSERT_EQUAL(std::size_t{61}, content.size());
        CPPUNIT_ASSERT_EQUAL(std::string("peerchat-ed25519 "), content.substr(0, 17));
        CPPUNIT_ASSERT_EQUAL('\n', content.back());
        // The temporary file it was written to is gone.
        CPPUNIT_ASSERT_EQUAL(std::size_t{1}, entriesIn(dir.file("config/peerchat")));
    }

    void testLoadKnownFile()
    {
        TempDir dir;
        // RFC 8032 TEST 1's seed, in base64url.
        writeFile(dir.file("known.key"), kGoodLine, 0600);
        const SigningKey key = KeyFile::loadOrCreate(dir.file("known.key"));
        CPPUNIT_ASSERT_EQUAL(0xd7, int{key.publicKey()[0]});
        CPPUNIT_ASSERT_EQUAL(0x1a, int{key.publicKey()[31]});
        // 0400 is fine too: only the owner matters.
        CPPUNIT_ASSERT_EQUAL(0, ::chmod(dir.file("known.key").c_str(), 0400));
        CPPUNIT_ASSERT(KeyFile::loadOrCreate(dir.file("known.key")).publicKey() == key.publicKey());
    }

    void testRefuseFileOthersCanRead()
    {
        TempDir dir;
        const std::string path = dir.file("alice.key");
        KeyFile::loadOrCreate(path);
        for (mode_t mode : {0644, 0640, 0604, 0620, 0602}) {
            CPPUNIT_ASSERT_EQUAL(0, ::chmod(path.c_str(), mode));
            const std::string message = refusal(path);
            assertMentions(message, path);
            assertMentions(message, "chmod 600 " + path);
        }
        // Refused, not replaced: the key is still the same file.
        const std::string before = contentOf(path);
        CPPUNIT_ASSERT_EQUAL(0, ::chmod(path.c_str(), 0600));
        CPPUNIT_ASSERT_EQUAL(before, contentOf(path));
    }

    void testRefuseGarbage()
    {
        TempDir dir;
        const std::string path = dir.file("bad.key");
        const std::string seed = kGoodLine.substr(17, 43);
        for (const std::string& content :
             {std::string(), std::string("\n"), std::string("garbage\n"), kGoodLine.substr(0, 60),
              kGoodLine + "\n", kGoodLine + kGoodLine, "peerchat-ed25519  " + seed + "\n",
              "peerchat-ed25519 " + seed + "\r\n", "peerchat-x25519 " + seed + "\n",
              "Peerchat-ed25519 " + seed + "\n", "peerchat-ed25519 " + seed.substr(0, 42) + "=\n",
              "peerchat-ed25519 " + seed.substr(0, 42) + "B\n", "peerchat-ed25519 " + seed + "A\n",
              "peerchat-ed25519 " + seed.substr(0, 42) + "+\n", std::string(4096, 'x')}) {
            writeFile(path, content, 0600);
            const std::string message = refusal(path);
            assertMentions(message, path);
            assertMentions(message, "peerchat-ed25519");
            // The garbage stays for the person to look at.
            CPPUNIT_ASSERT(contentOf(path) == content);
        }
    }

    void testRefuseDirectory()
    {
        TempDir dir;
        const std::string path = dir.file("alice.key");
        CPPUNIT_ASSERT_EQUAL(0, ::mkdir(path.c_str(), 0700));
        const std::string message = refusal(path);
        assertMentions(message, path);
        assertMentions(message, "not a regular file");
    }

    void testRefuseFifo()
    {
        TempDir dir;
        const std::string path = dir.file("alice.key");
        CPPUNIT_ASSERT_EQUAL(0, ::mkfifo(path.c_str(), 0600));
        assertMentions(refusal(path), "not a regular file");
    }

    void testRefuseDanglingLink()
    {
        TempDir dir;
        const std::string path = dir.file("alice.key");
        CPPUNIT_ASSERT_EQUAL(0, ::symlink(dir.file("nowhere").c_str(), path.c_str()));
        assertMentions(refusal(path), path);
        CPPUNIT_ASSERT_EQUAL(std::size_t{1}, entriesIn(dir.path()));
    }

    void testRefuseDirectoryOthersCanWrite()
    {
        TempDir dir;
        const std::string shared = dir.file("shared");
        CPPUNIT_ASSERT_EQUAL(0, ::mkdir(shared.c_str(), 0700));
        CPPUNIT_ASSERT_EQUAL(0, ::chmod(shared.c_str(), 0770));
        const std::string message = refusal(shared + "/alice.key");
        assertMentions(message, shared);
        assertMentions(message, "chmod go-w");
        // With the sticky bit (like /tmp) others cannot replace the file: allowed.
        CPPUNIT_ASSERT_EQUAL(0, ::chmod(shared.c_str(), 01777));
        KeyFile::loadOrCreate(shared + "/alice.key");
        CPPUNIT_ASSERT_EQUAL(mode_t{0600}, modeOf(shared + "/alice.key"));
    }

    void testRefuseUnwritableDirectory()
    {
        if (::geteuid() == 0) return;  // root writes anywhere
        TempDir dir;
        const std::string locked = dir.file("locked");
        CPPUNIT_ASSERT_EQUAL(0, ::mkdir(locked.c_str(), 0500));
        const std::string message = refusal(locked + "/alice.key");
        ::chmod(locked.c_str(), 0700);
        assertMentions(message, locked);
        assertMentions(message, "--key");
    }

    void testDefaultPathFollowsXdg()
    {
        {
            const ScopedEnv config("XDG_CONFIG_HOME", "/x/config");
            CPPUNIT_ASSERT_EQUAL(std::string("/x/config/peerchat/alice.key"), KeyFile::defaultPath("alice.key"));
        }
        {
            const ScopedEnv config("XDG_CONFIG_HOME", nullptr);
            const ScopedEnv home("HOME", "/home/someone");
            CPPUNIT_ASSERT_EQUAL(std::string("/home/someone/.config/peerchat/indexd.key"),
                                 KeyFile::defaultPath("indexd.key"));
        }
        {
            // A relative XDG_CONFIG_HOME is invalid by the XDG spec and ignored.
            const ScopedEnv config("XDG_CONFIG_HOME", "relative");
            const ScopedEnv home("HOME", "/home/someone");
            CPPUNIT_ASSERT_EQUAL(std::string("/home/someone/.config/peerchat/a.key"), KeyFile::defaultPath("a.key"));
        }
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(KeyFileTest);
