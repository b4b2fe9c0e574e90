// The tmux harness the terminal tests read chatui through: a window keeps all
// its program printed, up to its last byte, and says how the program ended.
#include "TmuxServer.h"

#include <cppunit/extensions/HelperMacros.h>

#include <csignal>
#include <string>

using peerchat::test::TmuxServer;

class TmuxServerTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(TmuxServerTest);
    CPPUNIT_TEST(testExitedProgramKeepsItsLastOutput);
    CPPUNIT_TEST(testExitStatusCountsKillingSignal);
    CPPUNIT_TEST_SUITE_END();

public:
    void testExitedProgramKeepsItsLastOutput()
    {
        TmuxServer tmux(80, 24);
        // When a window ended with its program, tmux 3.3a lost the end of
        // the output of about one in twenty on a busy machine: with this
        // many windows, most runs met the loss.
        const int windows = 40;
        for (int i = 0; i < windows; ++i) {
            const std::string name = "w" + std::to_string(i);
            tmux.newWindow(name, {"sh", "-c", "echo \"last words of $0\"; exit 3", name});
        }
        for (int i = 0; i < windows; ++i) {
            const std::string name = "w" + std::to_string(i);
            CPPUNIT_ASSERT_MESSAGE(name + " never showed its end:\n" + tmux.transcript(name), tmux.waitForExit(name));
            CPPUNIT_ASSERT_EQUAL(3, tmux.exitStatus(name));
            const std::string transcript = tmux.transcript(name);
            CPPUNIT_ASSERT_MESSAGE(transcript, transcript.find("last words of " + name) != std::string::npos);
        }
    }

    void testExitStatusCountsKillingSignal()
    {
        TmuxServer tmux(80, 24);
        tmux.newWindow("killed", {"sh", "-c", "kill -TERM $$"});
        tmux.newWindow("running", {"sh", "-c", "read line"});
        CPPUNIT_ASSERT(tmux.waitForExit("killed"));
        CPPUNIT_ASSERT_EQUAL(128 + SIGTERM, tmux.exitStatus("killed"));
        CPPUNIT_ASSERT(!tmux.exited("running"));
        CPPUNIT_ASSERT_EQUAL(-1, tmux.exitStatus("running"));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(TmuxServerTest);
