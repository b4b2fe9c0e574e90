// The daemon harness the integration tests and benches start indexd and peerd
// through: a daemon never outlives the program that started it.
#include "DaemonProcess.h"
#include "Wait.h"

#include <cppunit/extensions/HelperMacros.h>

#include <csignal>
#include <fcntl.h>
#include <filesystem>
#include <string>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

using peerchat::test::DaemonProcess;
using peerchat::test::waitUntil;

class DaemonProcessTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(DaemonProcessTest);
    CPPUNIT_TEST(testDaemonEndsWhenItsStarterIsKilled);
    CPPUNIT_TEST_SUITE_END();

public:
    void testDaemonEndsWhenItsStarterIsKilled()
    {
        // indexd, orphaned, becomes this process's child, so that the test can reap it.
        CPPUNIT_ASSERT_EQUAL(0, ::prctl(PR_SET_CHILD_SUBREAPER, 1));
        int pipe[2];
        // Not inherited by indexd: the pipe ends when the starter does, whatever becomes of indexd.
        CPPUNIT_ASSERT_EQUAL(0, ::pipe2(pipe, O_CLOEXEC));
        const pid_t starter = ::fork();
        CPPUNIT_ASSERT(starter >= 0);
        if (starter == 0) {
            // A test that starts indexd and is killed, as ctest kills one that runs out of time.
            ::close(pipe[0]);
            DaemonProcess indexd("indexd", {"--port", "0", "--bind", "127.0.0.1"});
            indexd.start();
            indexd.waitReady();
            const std::string report = std::to_string(indexd.pid()) + " " + indexd.configHome() + "\n";
            [[maybe_unused]] const auto written = ::write(pipe[1], report.data(), report.size());
            ::raise(SIGKILL);
        }
        ::close(pipe[1]);
        std::string report;
        char buffer[512];
        ssize_t n = 0;
        while ((n = ::read(pipe[0], buffer, sizeof buffer)) > 0) report.append(buffer, static_cast<std::size_t>(n));
        ::close(pipe[0]);
        int status = 0;
        CPPUNIT_ASSERT_EQUAL(starter, ::waitpid(starter, &status, 0));
        CPPUNIT_ASSERT_MESSAGE(report, !report.empty() && report.back() == '\n');
        const auto space = report.find(' ');
        const pid_t daemon = static_cast<pid_t>(std::stol(report.substr(0, space)));
        const std::string configHome = report.substr(space + 1, report.size() - space - 2);
        CPPUNIT_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        const bool gone = waitUntil([&] { return ::waitpid(daemon, nullptr, WNOHANG) == daemon; });
        if (!gone) {
            ::kill(daemon, SIGKILL);
            ::waitpid(daemon, nullptr, 0);
        }
        std::filesystem::remove_all(std::filesystem::path(configHome).parent_path());
        CPPUNIT_ASSERT_MESSAGE("indexd " + std::to_string(daemon) + " outlived the test that started it", gone);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(DaemonProcessTest);
