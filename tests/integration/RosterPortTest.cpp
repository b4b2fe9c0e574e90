// indexd's seed roster TCP port (legacy mode) under clients that connect and
// never read (issue 9, row 8): a real indexd on loopback with a couple of
// thousand seed users online, a thousand connections that never read their
// roster, and then a real fetch and a new peerd, which must both be served
// promptly. Each attacking connection reads through a small window
// (SmallWindowSocket), so that a roster of ~100 KB is more than it takes in,
// as a roster of tens of thousands of users is against sockets with buffers
// of megabytes. And the seed and .NET rosters list seed and .NET users only,
// never a peerchat/3 user.
#include "ChatNetwork.h"
#include "SecureClient.h"
#include "SeedClient.h"
#include "SmallWindowSocket.h"
#include "Wait.h"

#include "RosterCodec.h"

#include <Poco/Exception.h>

#include <cppunit/extensions/HelperMacros.h>

#include <atomic>
#include <chrono>
#include <iomanip>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

using peerchat::RosterCodec;
using peerchat::RosterFormat;
using peerchat::test::ChatNetwork;
using peerchat::test::LocalClient;
using peerchat::test::SecureClient;
using peerchat::test::SeedClient;
using namespace std::chrono_literals;

namespace {

using Clock = std::chrono::steady_clock;

// Seed users online, each with a 32-byte name: a seed roster of ~98 KB, more
// than twice what a small window takes in before indexd's writes block.
constexpr int kUsers = 2000;
constexpr int kAttackers = 1000;
// How long a fetch or a login may take under the attack. A fetch held up
// until indexd cuts a connection at its old 10 s deadline takes far longer;
// one served at once takes milliseconds.
constexpr auto kPrompt = 3s;

long millisecondsSince(Clock::time_point start)
{
    return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count());
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
    CPPUNIT_TEST(testRostersListNoPeerchatUser);
    CPPUNIT_TEST(testNonReadersFromOneAddressLeaveFetchesPrompt);
    CPPUNIT_TEST(testNonReadersFromManyAddressesLeaveFetchesPrompt);
    CPPUNIT_TEST_SUITE_END();

public:
    void setUp() override
    {
        // The seed users all log in from 127.0.0.1, faster than the default
        // login rates allow.
        _net = std::make_unique<ChatNetwork>(
            ChatNetwork::Wire::Legacy, std::vector<std::string>{"--login-rate", "1000000", "--logins-per-minute",
                                                                "1000000", "--drop-report-ms", "500"});
    }

    void tearDown() override
    {
        _users.clear();
        _net.reset();
    }

    void testRostersListNoPeerchatUser()
    {
        SeedClient& watcher = logInSeed("watcher");
        SecureClient dave("dave");
        const auto welcome = dave.login(_net->index());
        CPPUNIT_ASSERT_MESSAGE(welcome.error(), welcome.ok());
        SeedClient& marker = logInSeed("marker");

        // The watcher hears of the seed user who came after dave, and of dave not at all.
        const auto heard = watcher.receive();
        CPPUNIT_ASSERT_MESSAGE(_net->indexd().log(), heard);
        CPPUNIT_ASSERT_EQUAL("login,marker," + marker.endpoint(), *heard);
        // dave is online (welcomed), and the rosters list the seed users only.
        const std::set<std::string> seedUsers{"watcher", "marker"};
        CPPUNIT_ASSERT(seedUsers == names(SeedClient().fetchRoster("127.0.0.1", rosterPort()), RosterFormat::SeedText));
        CPPUNIT_ASSERT(seedUsers == names(SeedClient(SeedClient::Mode::DotNet)
                                              .fetchRoster("127.0.0.1", _net->rosterPort("dotnet-roster")),
                                          RosterFormat::SeedText));
    }

    void testNonReadersFromOneAddressLeaveFetchesPrompt()
    {
        logInFillers();
        // 8 served at a time, the others refused.
        attackAndCheckPrompt({"127.0.0.2"}, 1000, "refused (first from 127.0.0.2:");
    }

    void testNonReadersFromManyAddressesLeaveFetchesPrompt()
    {
        logInFillers();
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
    int rosterPort() const { return _net->rosterPort("seed-roster"); }

    Poco::Net::SocketAddress rosterAddress() const
    {
        return Poco::Net::SocketAddress("127.0.0.1", static_cast<std::uint16_t>(rosterPort()));
    }

    // A seed user logged in as the seed does, its roster read; kept until tearDown.
    SeedClient& logInSeed(const std::string& name)
    {
        _users.push_back(std::make_unique<SeedClient>());
        CPPUNIT_ASSERT_MESSAGE(name + " got no Accept; indexd log:\n" + _net->indexd().log(),
                               _users.back()->login(name, _net->index()));
        return *_users.back();
    }

    void logInFillers()
    {
        for (int i = 0; i < kUsers; ++i) {
            std::ostringstream name;
            name << "roster-filler-" << std::setw(18) << std::setfill('0') << i;
            logInSeed(name.str());
        }
    }

    // The names a roster stream lists; the stream must decode.
    static std::set<std::string> names(const std::string& stream, RosterFormat format)
    {
        const auto entries = RosterCodec::decode(stream, format);
        CPPUNIT_ASSERT_MESSAGE(stream + ": " + entries.error(), entries.ok());
        std::set<std::string> out;
        for (const auto& entry : *entries) out.insert(entry.name);
        return out;
    }

    // Opens kAttackers non-reading connections to the seed roster port from
    // hosts at perSecond, then goes on at 100 a second while a user fetches
    // the roster and a new peerd logs in, each of which must take less than
    // kPrompt. indexd must sum the attack up in a line with summary, and log
    // no line per connection.
    void attackAndCheckPrompt(const std::vector<std::string>& hosts, int perSecond, const std::string& summary)
    {
        NonReaders attack(rosterAddress(), hosts);
        attack.open(kAttackers, perSecond);
        attack.keepOpening(100);
        assertFetchAndLoginPrompt();
        attack.stop();
        CPPUNIT_ASSERT(_net->indexd().waitForLog(summary));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(_net->indexd().log(), std::size_t(0),
                                     _net->indexd().countInLog("seed roster connection from"));
    }

    // A user's fetch of the whole roster, and a new peerd's login, each take
    // less than kPrompt.
    void assertFetchAndLoginPrompt()
    {
        const auto fetchStart = Clock::now();
        std::string failure;
        std::size_t entries = 0;
        try {
            const auto roster = RosterCodec::decode(SeedClient().fetchRoster("127.0.0.1", rosterPort()),
                                                    RosterFormat::SeedText);
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
        const std::string log = _net->peerd("newcomer").log();
        CPPUNIT_ASSERT_MESSAGE("peerd not online after " + std::to_string(loginMs) + " ms:\n" + log, online);
        CPPUNIT_ASSERT_MESSAGE("peerd took " + std::to_string(loginMs) + " ms to get online:\n" + log,
                               loginMs < ms(kPrompt));
    }

    static long ms(std::chrono::milliseconds duration) { return static_cast<long>(duration.count()); }

    std::unique_ptr<ChatNetwork> _net;
    std::vector<std::unique_ptr<SeedClient>> _users;
};

CPPUNIT_TEST_SUITE_REGISTRATION(RosterPortTest);
