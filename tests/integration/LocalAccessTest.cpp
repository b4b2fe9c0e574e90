// Who may attach to peerd's local socket: only processes of peerd's own uid.
// A real indexd and peerd; another uid is tried for real with runuser (as
// nobody), with the socket and its directory opened to everyone, so that
// nothing but peerd's SO_PEERCRED check stands in its way.
#include "DaemonProcess.h"
#include "LocalClient.h"
#include "TempDir.h"

#include <cppunit/extensions/HelperMacros.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <pwd.h>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

using namespace peerchat::test;
using namespace std::chrono_literals;

namespace {

// The path of program in PATH or in the system directories root's PATH has
// (runuser lives in /usr/sbin), or nullopt when it is nowhere.
std::optional<std::string> findProgram(const std::string& program)
{
    const char* path = std::getenv("PATH");
    std::istringstream dirs(std::string(path ? path : "") + ":/usr/sbin:/sbin:/usr/bin:/bin");
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
        if (dir.empty()) continue;
        const std::string candidate = dir + "/" + program;
        if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    return std::nullopt;
}

struct stat statOf(const std::string& path)
{
    struct stat status {};
    CPPUNIT_ASSERT_EQUAL_MESSAGE(path, 0, ::lstat(path.c_str(), &status));
    return status;
}

void makeOpen(const std::string& path, mode_t mode)
{
    CPPUNIT_ASSERT_EQUAL_MESSAGE("chmod " + path, 0, ::chmod(path.c_str(), mode));
}

/// A real indexd and a real peerd for alice whose socket is in a directory
/// of its own (sockets/), which peerd creates.
class AliceNode
{
public:
    AliceNode() : _indexd("indexd", {"--port", "0", "--bind", "127.0.0.1"})
    {
        _indexd.start();
        const DaemonProcess::Fields index = _indexd.waitReady();
        _peerd = std::make_unique<DaemonProcess>(
            "peerd", std::vector<std::string>{"--user", "alice", "--index", index.at("udp"), "--index-key",
                                              index.at("identity"), "--port", "0", "--bind", "127.0.0.1",
                                              "--socket", socket(), "--database", _dir.file("alice.db")});
        _peerd->start();
        _peerd->waitReady();
    }

    std::string socketDir() const { return _dir.file("sockets"); }
    std::string socket() const { return _dir.file("sockets/alice.sock"); }
    const TempDir& dir() const { return _dir; }
    DaemonProcess& peerd() { return *_peerd; }

private:
    TempDir _dir;
    DaemonProcess _indexd;
    std::unique_ptr<DaemonProcess> _peerd;
};

} // namespace

class LocalAccessTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(LocalAccessTest);
    CPPUNIT_TEST(testSocketAndDirectoryArePrivate);
    CPPUNIT_TEST(testOtherUidRefusedEvenWithOpenModes);
    CPPUNIT_TEST_SUITE_END();

public:
    void testSocketAndDirectoryArePrivate()
    {
        AliceNode node;
        const struct stat dir = statOf(node.socketDir());
        CPPUNIT_ASSERT(S_ISDIR(dir.st_mode));
        CPPUNIT_ASSERT_EQUAL(0700u, static_cast<unsigned>(dir.st_mode & 0777));
        CPPUNIT_ASSERT_EQUAL(::geteuid(), dir.st_uid);
        const struct stat socket = statOf(node.socket());
        CPPUNIT_ASSERT(S_ISSOCK(socket.st_mode));
        CPPUNIT_ASSERT_EQUAL(0600u, static_cast<unsigned>(socket.st_mode & 0777));
    }

    void testOtherUidRefusedEvenWithOpenModes()
    {
        const std::optional<std::string> runuser = findProgram("runuser");
        if (!runuser) {
            std::cout << "\nLocalAccessTest: skipped testOtherUidRefusedEvenWithOpenModes: runuser (util-linux) is "
                         "not installed, so no process of another uid can be started\n";
            return;
        }
        if (::geteuid() != 0) {
            CPPUNIT_FAIL("this test attaches to peerd as the user nobody through runuser, which only root may run; "
                         "run it as root (CI does)");
        }
        const std::optional<std::string> socat = findProgram("socat");
        CPPUNIT_ASSERT_MESSAGE("socat is not installed; make deps installs it", socat);
        const passwd* nobody = ::getpwnam("nobody");
        CPPUNIT_ASSERT_MESSAGE("there is no user nobody on this system", nobody);

        AliceNode node;
        // Everything on the way open to nobody: the private test directory, the
        // socket's directory and the socket itself.
        makeOpen(node.dir().path(), 0755);
        makeOpen(node.socketDir(), 0755);
        makeOpen(node.socket(), 0666);

        // socat reads end-of-file on its stdin (/dev/null) at once, then waits up
        // to 5 s for what peerd sends; it ends as soon as peerd closes the connection.
        const std::vector<std::string> socatArgs{"-t", "5", "-", "UNIX-CONNECT:" + node.socket()};
        std::vector<std::string> asNobody{"-u", "nobody", "--", *socat};
        asNobody.insert(asNobody.end(), socatArgs.begin(), socatArgs.end());
        DaemonProcess intruder(*runuser, asNobody);
        intruder.start();
        const std::string refusal = "refused a local client of uid " + std::to_string(nobody->pw_uid) + " (pid ";
        CPPUNIT_ASSERT_MESSAGE("peerd did not log the refusal; socat as nobody said:\n" + intruder.log() +
                                   "\npeerd's log:\n" + node.peerd().log(),
                               node.peerd().waitForLog(refusal));
        CPPUNIT_ASSERT_EQUAL_MESSAGE("socat as nobody said:\n" + intruder.log(), 0, intruder.waitExit(3s));
        CPPUNIT_ASSERT_EQUAL_MESSAGE("nobody got something from peerd", std::string(), intruder.log());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), node.peerd().countInLog(refusal));
        CPPUNIT_ASSERT(node.peerd().running());

        // The same command as peerd's own uid is served.
        DaemonProcess owner(*socat, socatArgs);
        owner.start();
        CPPUNIT_ASSERT_MESSAGE("socat as peerd's uid got no welcome:\n" + owner.log(), owner.waitForLog("welcome"));
        LocalClient client(node.socket());
        const auto welcome = client.waitEvent("welcome");
        CPPUNIT_ASSERT_MESSAGE("no welcome for peerd's own uid", welcome);
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), welcome->getValue<std::string>("self"));
        CPPUNIT_ASSERT(!welcome->getValue<std::string>("fingerprint").empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), node.peerd().countInLog(refusal));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(LocalAccessTest);
