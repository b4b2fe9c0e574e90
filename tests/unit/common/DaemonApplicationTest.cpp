#include "DaemonApplication.h"
#include "SettingsReader.h"
#include "TempDir.h"

#include <Poco/AutoPtr.h>
#include <Poco/Logger.h>

#include <cppunit/extensions/HelperMacros.h>

#include <chrono>
#include <condition_variable>
#include <csignal>
#include <fstream>
#include <iostream>
#include <mutex>
#include <pthread.h>
#include <sstream>
#include <thread>

using peerchat::DaemonApplication;
using peerchat::DaemonService;
using peerchat::Parsed;
using peerchat::SettingKey;
using peerchat::SettingsReader;

namespace {

const std::vector<SettingKey> kTestdKeys{
    {"testd.port", "port", "P", "a port (default 0)"},
    {"testd.logLevel", "log-level", "LEVEL", "a log level (default information)"},
    {"testd.loud", "loud", "true|false", "a switch (default false)", true},
};

// Runs the daemon's action once run() starts, then serves until stop(). Gives
// up after a deadline, asking for termination itself so that a daemon that
// never stops cannot hang the test.
class FakeService : public DaemonService
{
public:
    FakeService(std::uint16_t port, std::function<void()> action, bool& stopped)
        : _port(port), _action(std::move(action)), _stopped(stopped)
    {
    }

    std::string readyLine() const override { return "testd ready port=" + std::to_string(_port); }

    void run() override
    {
        _action();
        std::unique_lock<std::mutex> lock(_mutex);
        if (!_stopCalled.wait_for(lock, std::chrono::seconds(10), [this] { return _stopped; })) {
            Poco::Util::ServerApplication::terminate();
        }
    }

    void stop() override
    {
        const std::lock_guard<std::mutex> lock(_mutex);
        _stopped = true;
        _stopCalled.notify_all();
    }

private:
    std::uint16_t _port;
    std::function<void()> _action;
    bool& _stopped;
    std::mutex _mutex;
    std::condition_variable _stopCalled;
};

// A daemon with one port key and one log level key whose service either
// stops the daemon through stopWith() or asks for termination as SIGTERM
// would.
class TestDaemon : public DaemonApplication
{
public:
    TestDaemon()
        : DaemonApplication("testd", "TestDaemon", kTestdKeys,
                            {"[--port P] [OPTIONS]", "testd, a daemon for tests.", "Exit codes: 0, 64, 69."})
    {
    }

    bool failSetup = false;
    std::optional<std::pair<std::string, int>> stopRequest;
    bool serviceStopped = false;
    bool loud = false;
    /// Whether a thread the service started while it was made blocks the stop signals.
    bool setupThreadBlocksStop = false;

protected:
    Parsed<int> readSettings(const Poco::Util::AbstractConfiguration& config,
                             const std::set<std::string>& flagKeys) override
    {
        SettingsReader reader(config, kTestdKeys, flagKeys);
        _port = reader.port("testd.port", 0);
        loud = reader.flag("testd.loud", false);
        const int level = reader.logLevel("testd.logLevel", "information");
        if (reader.error()) return Parsed<int>::refuse(*reader.error());
        return level;
    }

    std::unique_ptr<DaemonService> createService() override
    {
        if (failSetup) throw Poco::IOException("cannot bind port " + std::to_string(_port) + "; choose another --port");
        // As peerd's database writer: a thread started while the service is made.
        std::thread([this] {
            sigset_t mask;
            pthread_sigmask(SIG_BLOCK, nullptr, &mask);
            setupThreadBlocksStop = sigismember(&mask, SIGTERM) == 1 && sigismember(&mask, SIGINT) == 1;
        }).join();
        return std::make_unique<FakeService>(
            _port,
            [this] {
                if (stopRequest) {
                    stopWith(stopRequest->first, stopRequest->second);
                } else {
                    terminate();
                }
            },
            serviceStopped);
    }

private:
    std::uint16_t _port = 0;
};

// Sends one standard stream to a string while it lives.
class CapturedStream
{
public:
    explicit CapturedStream(std::ostream& stream) : _stream(stream), _saved(stream.rdbuf(_text.rdbuf())) {}
    ~CapturedStream() { _stream.rdbuf(_saved); }
    CapturedStream(const CapturedStream&) = delete;
    CapturedStream& operator=(const CapturedStream&) = delete;

    std::string text() const { return _text.str(); }

private:
    std::ostream& _stream;
    std::ostringstream _text;
    std::streambuf* _saved;
};

struct Outcome
{
    int exitCode = -1;
    std::string out;
    std::string err;  ///< stderr and the log (std::clog) together
    bool serviceStopped = false;
    bool loud = false;
    bool setupThreadBlocksStop = false;
};

bool contains(const std::string& text, const std::string& needle)
{
    return text.find(needle) != std::string::npos;
}

} // namespace

class DaemonApplicationTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(DaemonApplicationTest);
    CPPUNIT_TEST(testRunPrintsHelp);
    CPPUNIT_TEST(testRunRefusesUnknownFlagWithUsageCode);
    CPPUNIT_TEST(testRunRefusesBadFlagValueNamingFlag);
    CPPUNIT_TEST(testRunRefusesBadFileValueNamingKey);
    CPPUNIT_TEST(testRunRefusesUnreadableConfig);
    CPPUNIT_TEST(testSwitchFlagAloneMeansTrue);
    CPPUNIT_TEST(testSwitchFlagTakesValueAfterEquals);
    CPPUNIT_TEST(testRunReportsSetupFailure);
    CPPUNIT_TEST(testTerminationStopsService);
    CPPUNIT_TEST(testThreadsStartedWithTheServiceLeaveStopSignalsToTheMainThread);
    CPPUNIT_TEST(testStopWithGivesReasonAndExitCode);
    CPPUNIT_TEST_SUITE_END();

public:
    void setUp() override
    {
        pthread_sigmask(SIG_BLOCK, nullptr, &_signalMask);
        _rootChannel = Poco::Logger::root().getChannel();
        _rootLevel = Poco::Logger::root().getLevel();
    }

    // The daemon blocks the stop signals and points every logger at the
    // console; the next tests in this runner get the process back as it was.
    void tearDown() override
    {
        pthread_sigmask(SIG_SETMASK, &_signalMask, nullptr);
        Poco::Logger::setChannel("", _rootChannel);
        Poco::Logger::setLevel("", _rootLevel);
    }

    void testRunPrintsHelp()
    {
        const Outcome o = run({"--help"});
        CPPUNIT_ASSERT_EQUAL(0, o.exitCode);
        CPPUNIT_ASSERT_MESSAGE(o.out, contains(o.out, "usage: testd [--port P] [OPTIONS]"));
        CPPUNIT_ASSERT_MESSAGE(o.out, contains(o.out, "testd, a daemon for tests."));
        CPPUNIT_ASSERT_MESSAGE(o.out, contains(o.out, "--port=P"));
        CPPUNIT_ASSERT_MESSAGE(o.out, contains(o.out, "a port (default 0); sets testd.port"));
        CPPUNIT_ASSERT_MESSAGE(o.out, contains(o.out, "--config=FILE"));
        CPPUNIT_ASSERT_MESSAGE(o.out, contains(o.out, "Exit codes: 0, 64, 69."));
        CPPUNIT_ASSERT_MESSAGE(o.err, o.err.empty());
    }

    void testRunRefusesUnknownFlagWithUsageCode()
    {
        const Outcome o = run({"--nope"});
        CPPUNIT_ASSERT_EQUAL(64, o.exitCode);
        CPPUNIT_ASSERT_MESSAGE(o.err, contains(o.err, "testd: run 'testd --help' to see the options"));
    }

    void testRunRefusesBadFlagValueNamingFlag()
    {
        const Outcome o = run({"--port", "abc"});
        CPPUNIT_ASSERT_EQUAL(64, o.exitCode);
        CPPUNIT_ASSERT_EQUAL(std::string("testd: --port must be 0..65535, got 'abc'\n"
                                         "testd: run 'testd --help' to see the options\n"),
                             o.err);
    }

    void testRunRefusesBadFileValueNamingKey()
    {
        peerchat::test::TempDir dir;
        std::ofstream(dir.file("testd.properties")) << "testd.logLevel = loud\n";
        const Outcome o = run({"--config", dir.file("testd.properties")});
        CPPUNIT_ASSERT_EQUAL(64, o.exitCode);
        CPPUNIT_ASSERT_MESSAGE(o.err, o.err.rfind("testd: testd.logLevel must be one of none, fatal", 0) == 0);
    }

    void testRunRefusesUnreadableConfig()
    {
        peerchat::test::TempDir dir;
        const std::string missing = dir.file("missing.properties");
        const Outcome o = run({"--config", missing});
        CPPUNIT_ASSERT_EQUAL(64, o.exitCode);
        CPPUNIT_ASSERT_MESSAGE(o.err, o.err.rfind("testd: cannot read --config " + missing + ": ", 0) == 0);
    }

    void testSwitchFlagAloneMeansTrue()
    {
        const Outcome o = run({"--loud", "--port", "5", "--log-level", "none"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(o.err, 0, o.exitCode);
        CPPUNIT_ASSERT(o.loud);
        CPPUNIT_ASSERT_MESSAGE(o.err, contains(o.err, "testd ready port=5\n"));
        CPPUNIT_ASSERT(!run({"--log-level", "none"}).loud);
        const Outcome help = run({"--help"});
        CPPUNIT_ASSERT_MESSAGE(help.out, contains(help.out, "--loud[=true|false]"));
    }

    void testSwitchFlagTakesValueAfterEquals()
    {
        const Outcome off = run({"--loud=false", "--log-level", "none"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(off.err, 0, off.exitCode);
        CPPUNIT_ASSERT(!off.loud);
        const Outcome bad = run({"--loud=maybe"});
        CPPUNIT_ASSERT_EQUAL(64, bad.exitCode);
        CPPUNIT_ASSERT_MESSAGE(bad.err, bad.err.rfind("testd: --loud must be true or false, got 'maybe'\n", 0) == 0);
    }

    void testRunReportsSetupFailure()
    {
        const Outcome o = run({"--port", "7"}, [](TestDaemon& d) { d.failSetup = true; });
        CPPUNIT_ASSERT_EQUAL(69, o.exitCode);
        CPPUNIT_ASSERT_EQUAL(std::string("testd: cannot bind port 7; choose another --port\n"), o.err);
    }

    // The ready and stopping lines show even when the log level hides notices.
    void testTerminationStopsService()
    {
        const Outcome o = run({"--port", "1234", "--log-level", "error"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(o.err, 0, o.exitCode);
        CPPUNIT_ASSERT(o.serviceStopped);
        CPPUNIT_ASSERT_MESSAGE(o.err, contains(o.err, "Notice TestDaemon: testd ready port=1234\n"));
        CPPUNIT_ASSERT_MESSAGE(o.err, contains(o.err, "Notice TestDaemon: testd stopping: termination requested\n"));
        CPPUNIT_ASSERT_MESSAGE(o.err, contains(o.err, "Notice TestDaemon: testd stopped\n"));
        CPPUNIT_ASSERT_MESSAGE(o.err, o.err.find("ready") < o.err.find("stopping"));
    }

    // A stop signal must never land in a thread that does not block it: the
    // default action would end the process without its clean shutdown.
    void testThreadsStartedWithTheServiceLeaveStopSignalsToTheMainThread()
    {
        const Outcome o = run({"--log-level", "none"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(o.err, 0, o.exitCode);
        CPPUNIT_ASSERT(o.setupThreadBlocksStop);
    }

    void testStopWithGivesReasonAndExitCode()
    {
        const Outcome o = run({"--log-level", "none"}, [](TestDaemon& d) { d.stopRequest = {{"the test is done", 3}}; });
        CPPUNIT_ASSERT_EQUAL_MESSAGE(o.err, 3, o.exitCode);
        CPPUNIT_ASSERT(o.serviceStopped);
        CPPUNIT_ASSERT_MESSAGE(o.err, contains(o.err, "testd ready port=0\n"));
        CPPUNIT_ASSERT_MESSAGE(o.err, contains(o.err, "testd stopping: the test is done\n"));
        CPPUNIT_ASSERT_MESSAGE(o.err, contains(o.err, "testd stopped\n"));
    }

private:
    static Outcome run(const std::vector<std::string>& args, const std::function<void(TestDaemon&)>& prepare = {})
    {
        std::vector<std::string> words{"testd"};
        words.insert(words.end(), args.begin(), args.end());
        std::vector<char*> argv;
        for (auto& word : words) argv.push_back(word.data());
        argv.push_back(nullptr);

        Poco::AutoPtr<TestDaemon> daemon(new TestDaemon);
        if (prepare) prepare(*daemon);
        Outcome o;
        {
            CapturedStream out(std::cout);
            CapturedStream err(std::cerr);
            CapturedStream log(std::clog);
            o.exitCode = daemon->run(static_cast<int>(words.size()), argv.data());
            o.out = out.text();
            o.err = err.text() + log.text();
        }
        o.serviceStopped = daemon->serviceStopped;
        o.setupThreadBlocksStop = daemon->setupThreadBlocksStop;
        o.loud = daemon->loud;
        return o;
    }

    sigset_t _signalMask{};
    Poco::Channel::Ptr _rootChannel;
    int _rootLevel = 0;
};

CPPUNIT_TEST_SUITE_REGISTRATION(DaemonApplicationTest);
