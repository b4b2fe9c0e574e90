#include "DataPath.h"

#include "TempDir.h"

#include <Poco/Exception.h>
#include <Poco/Path.h>

#include <cppunit/extensions/HelperMacros.h>

#include <cstdlib>
#include <fstream>
#include <optional>
#include <sys/stat.h>

using peerchat::DataPath;

namespace {

// Sets XDG_DATA_HOME for one test and puts back what was there.
class DataHomeOverride
{
public:
    explicit DataHomeOverride(const char* value)
    {
        if (const char* old = std::getenv("XDG_DATA_HOME")) _old = old;
        if (value) ::setenv("XDG_DATA_HOME", value, 1);
        else ::unsetenv("XDG_DATA_HOME");
    }
    ~DataHomeOverride()
    {
        if (_old) ::setenv("XDG_DATA_HOME", _old->c_str(), 1);
        else ::unsetenv("XDG_DATA_HOME");
    }

private:
    std::optional<std::string> _old;
};

mode_t modeOf(const std::string& path)
{
    struct stat st {};
    CPPUNIT_ASSERT_EQUAL_MESSAGE(path, 0, ::stat(path.c_str(), &st));
    CPPUNIT_ASSERT_MESSAGE(path, S_ISDIR(st.st_mode));
    return st.st_mode & 0777;
}

} // namespace

class DataPathTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(DataPathTest);
    CPPUNIT_TEST(testDefaultUsesXdgDataHome);
    CPPUNIT_TEST(testDefaultFallsBackToLocalShare);
    CPPUNIT_TEST(testEnsureDirectoryCreatesPrivateDirectories);
    CPPUNIT_TEST(testEnsureDirectoryLeavesExistingDirectory);
    CPPUNIT_TEST(testEnsureDirectoryRefusesFileInTheWay);
    CPPUNIT_TEST_SUITE_END();

public:
    void testDefaultUsesXdgDataHome()
    {
        DataHomeOverride data("/srv/data");
        CPPUNIT_ASSERT_EQUAL(std::string("/srv/data/peerchat/indexd.db"), DataPath::defaultFor("indexd.db"));
    }

    void testDefaultFallsBackToLocalShare()
    {
        const std::string expected = Poco::Path::home() + ".local/share/peerchat/天涯.db";
        {
            DataHomeOverride unset(nullptr);
            CPPUNIT_ASSERT_EQUAL(expected, DataPath::defaultFor("天涯.db"));
        }
        // The XDG spec says a relative XDG_DATA_HOME is invalid and ignored.
        DataHomeOverride relative("data");
        CPPUNIT_ASSERT_EQUAL(expected, DataPath::defaultFor("天涯.db"));
    }

    void testEnsureDirectoryCreatesPrivateDirectories()
    {
        peerchat::test::TempDir dir;
        DataPath::ensureDirectory(dir.file("share/peerchat/indexd.db"), "database");
        CPPUNIT_ASSERT_EQUAL(mode_t(0700), modeOf(dir.file("share")));
        CPPUNIT_ASSERT_EQUAL(mode_t(0700), modeOf(dir.file("share/peerchat")));
    }

    void testEnsureDirectoryLeavesExistingDirectory()
    {
        peerchat::test::TempDir dir;
        CPPUNIT_ASSERT_EQUAL(0, ::chmod(dir.path().c_str(), 0750));
        DataPath::ensureDirectory(dir.file("indexd.db"), "database");
        CPPUNIT_ASSERT_EQUAL(mode_t(0750), modeOf(dir.path()));
    }

    void testEnsureDirectoryRefusesFileInTheWay()
    {
        peerchat::test::TempDir dir;
        std::ofstream(dir.file("plain")) << "not a directory";
        try {
            DataPath::ensureDirectory(dir.file("plain/peerchat/indexd.db"), "database");
            CPPUNIT_FAIL("a file in the way was taken for a directory");
        } catch (const Poco::IOException& e) {
            CPPUNIT_ASSERT_MESSAGE(e.message(), e.message().find(dir.file("plain")) != std::string::npos);
            CPPUNIT_ASSERT_MESSAGE(e.message(), e.message().find("--database") != std::string::npos);
        }
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(DataPathTest);
