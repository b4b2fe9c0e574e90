// indexd's roster TCP port under clients that connect and never read (issue
// 9, row 8): a real indexd on loopback with a few hundred users online, a
// thousand connections that never read their roster, and then a real fetch
// and a new peerd, which must both be served promptly. Each attacking
// connection reads through a small window (SmallWindowSocket), so that a
// roster of ~100 KB is more than it takes in, as a roster of thousands of
// users is against sockets with buffers of megabytes.
#include "ChatNetwork.h"
#include "SecureClient.h"
#include "SmallWindowSocket.h"
#include "Wait.h"

#include <Poco/Exception.h>

#include <cppunit/extensions/HelperMacros.h>

#include <atomic>
#include <chrono>
#include <iomanip>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

using peerchat::test::ChatNetwork;
using peerchat::test::LocalClient;
using peerchat::test::SecureClient;
using namespace std::chrono_literals;

namespace {

using Clock = std::chrono::steady_clock;

// Users online, each with a 32-byte name: a peerchat roster of ~95 KB, more
// than twice what a small window takes in before indexd's writes block.
constexpr int kUsers = 400;
constexpr int kAttackers = 1000;
// How long a fetch or a login may take under the attack. A fetch held up
// until indexd cuts a connection at its old 10 s deadline, or given up at
// peerd's 5 s one, takes far longer; one served at once takes milliseconds.
constexpr auto kPrompt = 3s;

long millisecondsSince(Clock::time_point start)
{
    return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count());
}

// The lines of log that mention what: a peerd's log names every user of a
// roster it read, and a failure should show only its fetches.
std::string linesWith(const std::string& log, const std::string& what)
{
    std::istringstream lines(log);
    std::string kept;
    for (std::string line; std::getline(lines, line);) {
        if (line.find(what) != std::string::npos) kept += line + "\n";
    }
    return kept;
}

// Connections to a roster port that never read, from the given source
// addresses in turn, opened without waiting for their handshakes.
class NonReaders
{
public:
    NonReaders(Poco::Net::SocketAddress server, std::vector<std::string> hosts)
        : _server(std::move(server)), _hosts(std::move(hosts))
    {
    }

    ~NonReaders() { stop(); }
    NonReaders(const NonReaders&) = delete;
    NonReaders& operator=(const NonReaders&) = delete;

    // Opens count connections at perSecond.
    void open(int count, int perSecond)
    {
        const auto start = Clock::now();
        for (int i = 0; i < count && !_stopping; ++i) {
            openOne();
            std::this_thread::sleep_until(start + (i + 1) * 1000ms / perSecond);
        }
    }

    // Goes on opening connections at perSecond on a thread of its own until stop().
    void keepOpening(int perSecond)
    {
        _thread = std::thread([this, perSecond] { open(1000000, perSecond); });
    }

    void stop()
    {
        _stopping = true;
        if (_thread.joinable()) _thread.join();
    }

    std::size_t opened()
    {
        std::lock_guard<std::mutex> lock(_mutex);
        return _sockets.size();
    }

private:
    void openOne()
    {
        std::lock_guard<std::mutex> lock(_mutex);
        Poco::Net::StreamSocket socket = peerchat::test::smallWindowSocket(_hosts[_sockets.size() % _hosts.size()]);
        socket.connectNB(_server);
        _sockets.push_back(std::move(socket));
    }

    Poco::Net::SocketAddress _server;
    std::vector<std::string> _hosts;
    std::mutex _mutex;
    std::vector<Poco::Net::StreamSocket> _sockets;
    std::atomic<bool> _stopping{false};
    std::thread _thread;
};

} // namespace

class RosterPortTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(RosterPortTest);
    CPPUNIT_TEST(testNonReadersFromOneAddressLeaveFetchesPrompt);
    CPPUNIT_TEST(testNonReadersFromManyAddressesLeaveFetchesPrompt);
    CPPUNIT_TEST_SUITE_END();

public:
    void setUp() override
    {
        // The users all log in from 127.0.0.1, faster than the default login
        // rate allows, and send no heartbeats.
        _net = std::make_unique<ChatNetwork>(
            ChatNetwork::Wire::Secure,
            std::vector<std::string>{"--login-rate", "1000000", "--expire-ms", "600000", "--drop-report-ms", "500"});
        for (int i = 0; i < kUsers; ++i) {
            std::ostringstream name;
            name << "roster-filler-" << std::setw(18) << std::setfill('0') << i;
            _users.push_back(std::make_unique<SecureClient>(name.str()));
            const auto welcome = _users.back()->login(_net->index());
            CPPUNIT_ASSERT_MESSAGE(name.str() + ": " + welcome.error(), welcome.ok());
        }
    }

    void tearDown() override
    {
        _users.clear();
        _net.reset();
    }

    void testNonReadersFromOneAddressLeaveFetchesPrompt()
    {
        // 8 served at a time, the others refused.
        attackAndCheckPrompt({"127.0.0.2"}, 1000, "refused (first from 127.0.0.2:");
    }

    void testNonReadersFromManyAddressesLeaveFetchesPrompt()
    {
        // Four connections from each of 250 addresses: none over the limit of
        // one address, and together enough to hold every slot. Opened at a
        // pace the port keeps up with by cutting stalled ones (its slots
        // every half second); faster, its listen backlog overflows and new
        // clients, real ones too, wait for TCP to send their SYN again.
        std::vector<std::string> hosts;
        for (int i = 1; i <= 250; ++i) hosts.push_back("127.0.1." + std::to_string(i));
        // Stalled connections gave their slots up to new ones.
        attackAndCheckPrompt(hosts, 250, "too slow (first from 127.0.1.");
    }

private:
    Poco::Net::SocketAddress rosterAddress() const
    {
        return Poco::Net::SocketAddress("127.0.0.1", static_cast<std::uint16_t>(_net->rosterPort("peerchat-roster")));
    }

    // Opens kAttackers non-reading connections to the peerchat roster port
    // from hosts at perSecond, then goes on at 100 a second while a user
    // fetches the roster and a new peerd logs in, each of which must take
    // less than kPrompt. indexd must sum the attack up in a line with
    // summary, and log no line per connection.
    void attackAndCheckPrompt(const std::vector<std::string>& hosts, int perSecond, const std::string& summary)
    {
        NonReaders attack(rosterAddress(), hosts);
        attack.open(kAttackers, perSecond);
        attack.keepOpening(100);
        assertFetchAndLoginPrompt();
        attack.stop();
        CPPUNIT_ASSERT(_net->indexd().waitForLog(summary));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(_net->indexd().log(), std::size_t(0),
                                     _net->indexd().countInLog("roster connection from"));
    }

    // A user's fetch of the whole roster, and a new peerd's login, each take
    // less than kPrompt.
    void assertFetchAndLoginPrompt()
    {
        const auto fetchStart = Clock::now();
        std::string failure;
        std::size_t entries = 0;
        try {
            const auto roster = _users.front()->fetchRoster();
            if (roster) entries = roster->size();
            else failure = roster.error();
        } catch (const Poco::Exception& e) {
            failure = e.displayText();
        }
        const long fetchMs = millisecondsSince(fetchStart);
        CPPUNIT_ASSERT_MESSAGE("the roster could not be read in " + std::to_string(fetchMs) + " ms: " + failure,
                               failure.empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(kUsers), entries);
        CPPUNIT_ASSERT_MESSAGE("the roster took " + std::to_string(fetchMs) + " ms", fetchMs < ms(kPrompt));

        _net->startPeerd("newcomer");
        const auto loginStart = Clock::now();
        // Not attach(), which takes the welcome: peerd may be online before the
        // client connects, and then the welcome is all that says so.
        LocalClient client(_net->socketOf("newcomer"));
        const bool online = static_cast<bool>(client.waitFor(
            [](const LocalClient::Object& event) {
                const std::string name = event->optValue<std::string>("event", "");
                return (name == "welcome" || name == "state") && event->getValue<std::string>("state") == "online";
            },
            20s));
        const long loginMs = millisecondsSince(loginStart);
        const std::string fetches = linesWith(_net->peerd("newcomer").log(), "roster");
        CPPUNIT_ASSERT_MESSAGE("peerd not online after " + std::to_string(loginMs) + " ms:\n" + fetches, online);
        CPPUNIT_ASSERT_MESSAGE("peerd took " + std::to_string(loginMs) + " ms to get online:\n" + fetches,
                               loginMs < ms(kPrompt));
    }

    static long ms(std::chrono::milliseconds duration) { return static_cast<long>(duration.count()); }

    std::unique_ptr<ChatNetwork> _net;
    std::vector<std::unique_ptr<SecureClient>> _users;
};

CPPUNIT_TEST_SUITE_REGISTRATION(RosterPortTest);
