// chatui end to end: real chatui processes in a private tmux server, attached
// to real peerds logged in to a real indexd. The test types with tmux
// send-keys and reads the screen with capture-pane, as a person would.
#include "ChatNetwork.h"
#include "DaemonProcess.h"
#include "Fingerprint.h"
#include "KeyFile.h"
#include "LineReader.h"
#include "LocalClient.h"
#include "LocalProtocol.h"
#include "SeedClient.h"
#include "TmuxServer.h"
#include "Wait.h"

#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>

#include <cppunit/extensions/HelperMacros.h>

#include <algorithm>
#include <csignal>
#include <functional>
#include <memory>
#include <regex>
#include <sstream>
#include <string>

using peerchat::ConversationId;
using peerchat::test::ChatNetwork;
using peerchat::test::DaemonProcess;
using peerchat::test::LocalClient;
using peerchat::test::SeedClient;
using peerchat::test::TempDir;
using peerchat::test::TmuxServer;
using peerchat::test::peerRequest;
using peerchat::test::sendRequest;
using peerchat::test::subscribeTo;

namespace {

const std::string kTianya = "\xE5\xA4\xA9\xE6\xB6\xAF"; // 天涯
const std::string kHelloWorld = "\xE4\xBD\xA0\xE5\xA5\xBD\xE4\xB8\x96\xE7\x95\x8C"; // 你好世界
const std::string kArrow = " \xE2\x86\x92 "; // → in a conversation's header
const std::string kDot = " \xC2\xB7 ";          // · between a name and its own state
const std::string kReplacement = "\xEF\xBF\xBD"; // U+FFFD
// The marks of your lines, between the time and your name.
const std::string kPendingMark = "\xE2\x8B\xAF";   // ⋯
const std::string kStoredMark = "\xE2\x87\xA1";    // ⇡
const std::string kDeliveredMark = "\xE2\x9C\x93"; // ✓
const std::string kFailedMark = "!";
const std::string kUnverifiedMark = "?";
// Fingerprints as peerd gives them: 8 groups of 4 hex digits.
const std::string kAliceFingerprint = "3f2a 91c0 77de 0b12 c4e8 9a01 5d6f e2b3";
const std::string kBobPinned = "0000 1111 2222 3333 4444 5555 6666 7777";
const std::string kBobOffered = "8888 9999 aaaa bbbb cccc dddd eeee ffff";
const std::regex kFingerprint("[0-9a-f]{4}( [0-9a-f]{4}){7}");

// The roster's headings, and the columns left of a name in its rows (the
// selection mark, a cell for the user's state, a space). A contact online
// has its state mark in that cell (+ online, ~ away, - busy); every other
// row leaves it blank.
const std::vector<std::string> kSections = {"Contacts online", "Contacts offline", "Requests", "Asked by you", "Blocked"};
const std::string kRow = "    ";
const std::string kSelectedRow = ">   ";
const std::string kOnlineRow = "  + ";
const std::string kSelectedOnlineRow = "> + ";

/// How a conversation's header starts when user's peerd is real: the name,
/// its own state (online, as peerd starts), and the arrow to the peer.
std::string talking(const std::string& user) { return user + kDot + "online" + kArrow; }

/// The heading over the roster row that names user on screen; empty when no row does.
std::string sectionOf(const std::string& screen, const std::string& user)
{
    std::istringstream lines(screen);
    std::string line;
    std::string heading;
    while (std::getline(lines, line)) {
        if (line.size() > 1 && std::find(kSections.begin(), kSections.end(), line.substr(1)) != kSections.end()) {
            heading = line.substr(1);
            continue;
        }
        // "  " or "> ", the state cell (blank or a contact's mark), a space.
        const bool row = line.size() > kRow.size() && (line[0] == ' ' || line[0] == '>') && line[1] == ' ' &&
                         std::string(" +~-").find(line[2]) != std::string::npos && line[3] == ' ';
        const std::size_t end = kRow.size() + user.size();
        if (row && line.compare(kRow.size(), user.size(), user) == 0 && (line.size() == end || line[end] == ' '))
            return heading;
    }
    return {};
}

/// A local request as one line, without the newline LocalClient::sendLine adds.
std::string requestLine(const peerchat::local::Request& request)
{
    std::string line = peerchat::local::LocalProtocol::encodeRequest(request);
    if (!line.empty() && line.back() == '\n') line.pop_back();
    return line;
}

/// True when a line of screen satisfies predicate.
bool hasLine(const std::string& screen, const std::function<bool(const std::string&)>& predicate)
{
    std::istringstream lines(screen);
    std::string line;
    while (std::getline(lines, line))
        if (predicate(line)) return true;
    return false;
}

/// Columns a line takes, counting every three-byte UTF-8 character as two
/// (right for the CJK these tests type, one too many for an arrow).
int columnsOf(const std::string& line)
{
    int columns = 0;
    for (std::size_t i = 0; i < line.size();) {
        const auto lead = static_cast<unsigned char>(line[i]);
        if (lead < 0x80) {
            columns += 1;
            i += 1;
        } else {
            columns += lead >= 0xE0 ? 2 : 1;
            i += lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
        }
    }
    return columns;
}

/// The peerd end of chatui's local socket, played by the test: it takes
/// chatui's requests and writes the events the test scripts, so a test can
/// put lines in every state, including those a live network reaches only
/// after faults and give-up times.
class ScriptedPeerd
{
public:
    explicit ScriptedPeerd(const std::string& path)
    {
        _listener.bind(Poco::Net::SocketAddress(Poco::Net::SocketAddress::UNIX_LOCAL, path), false);
        _listener.listen();
    }

    void accept()
    {
        CPPUNIT_ASSERT_MESSAGE("chatui did not connect",
                               _listener.poll(Poco::Timespan(10, 0), Poco::Net::Socket::SELECT_READ));
        _connection = _listener.acceptConnection();
    }

    /// Closes the connection as a peerd that dies would, unanswered requests and all.
    void hangUp()
    {
        _connection.close();
        _reader = peerchat::LineReader(peerchat::local::kMaxLineBytes);
    }

    void send(const peerchat::local::Event& event)
    {
        const std::string line = peerchat::local::LocalProtocol::encodeEvent(event);
        _connection.sendBytes(line.data(), static_cast<int>(line.size()));
    }

    /// The next request of type T chatui writes, passing over others.
    template <typename T>
    T waitRequest()
    {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (std::chrono::steady_clock::now() < deadline) {
            while (auto line = _reader.next()) {
                auto request = peerchat::local::LocalProtocol::decodeRequest(*line);
                CPPUNIT_ASSERT_MESSAGE("chatui wrote a bad request: " + std::string(*line), request.ok());
                if (auto* wanted = std::get_if<T>(&request.value())) return *wanted;
            }
            char buffer[4096];
            if (_connection.poll(Poco::Timespan(0, 50000), Poco::Net::Socket::SELECT_READ)) {
                const int n = _connection.receiveBytes(buffer, sizeof(buffer));
                CPPUNIT_ASSERT_MESSAGE("chatui closed the connection", n > 0);
                _reader.feed(std::string_view(buffer, static_cast<std::size_t>(n)));
            }
        }
        CPPUNIT_FAIL("chatui did not write the request the test waits for");
        return T{};
    }

private:
    Poco::Net::ServerSocket _listener;
    Poco::Net::StreamSocket _connection;
    peerchat::LineReader _reader{peerchat::local::kMaxLineBytes};
};

/// A line of alice's conversation with bob, as peerd would send it.
peerchat::local::ChatLine chatLine(std::uint64_t id, const std::string& from, const std::string& text,
                                   peerchat::local::LineState state)
{
    peerchat::local::ChatLine line;
    line.id = id;
    line.conversation = ConversationId::direct("bob");
    line.outgoing = from == "alice";
    line.from = from;
    line.sentTime = "12:00:00";
    line.receivedAtMs = 1795000000000 + static_cast<std::int64_t>(id) * 1000;
    line.text = text;
    line.state = state;
    return line;
}

} // namespace

class ChatuiTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(ChatuiTest);
    CPPUNIT_TEST(testTypedLineReachesPeerAndOwnSecondWindow);
    CPPUNIT_TEST(testLineSentWithoutWindowShowsWhenWindowOpens);
    CPPUNIT_TEST(testRosterShowsContactsAndStrangersWhoWrite);
    CPPUNIT_TEST(testRosterOpensConversationAndReturns);
    CPPUNIT_TEST(testQuitKeysCloseOnlyTheirWindow);
    CPPUNIT_TEST(testReconnectsWhenPeerdComesBack);
    CPPUNIT_TEST(testResizeWrapsAtNewWidth);
    CPPUNIT_TEST(testControlCharactersAreShownReplaced);
    CPPUNIT_TEST(testEditingKeysEditWideCharacters);
    CPPUNIT_TEST(testUnreachablePeerdSaysWhatToRun);
    CPPUNIT_TEST(testSentLinesShowTheirMark);
    CPPUNIT_TEST(testLineToOfflinePeerIsDeliveredWhenPeerIsBack);
    CPPUNIT_TEST(testMarksFollowStatusEvents);
    CPPUNIT_TEST(testRefusedLineReturnsToInput);
    CPPUNIT_TEST(testLineTypedAsPeerdDiesShowsOnceWhenItIsBack);
    CPPUNIT_TEST(testUnansweredSendGoesAgainUnderItsKey);
    CPPUNIT_TEST(testSearchShowsEarlierLineAndReturns);
    CPPUNIT_TEST(testWhoamiShowsTheFingerprintOthersVerify);
    CPPUNIT_TEST(testKeyChangeOfRealPeerWarnsUntilTrusted);
    CPPUNIT_TEST(testChangedKeyWarnsUntilTrusted);
    CPPUNIT_TEST(testRosterTagsChangedAndUnverifiedPeers);
    CPPUNIT_TEST(testUnverifiedLinesAreMarkedAndExplained);
    CPPUNIT_TEST(testRequestTypedInRosterIsAcceptedInTheOther);
    CPPUNIT_TEST(testBlockFromConversationTakesRequestOffRoster);
    CPPUNIT_TEST(testTypingShowsAndExpires);
    CPPUNIT_TEST(testStatusSetInRosterShowsInConversation);
    CPPUNIT_TEST_SUITE_END();

public:
    void setUp() override
    {
        _network = std::make_unique<ChatNetwork>();
        _tmux = std::make_unique<TmuxServer>(100, 30);
    }

    void tearDown() override
    {
        // The terminals first, so no chatui outlives the daemons it watches.
        _tmux.reset();
        _network.reset();
    }

    void testTypedLineReachesPeerAndOwnSecondWindow()
    {
        _network->startPeerd("alice");
        _network->startPeerd(kTianya);
        makeContacts("alice", kTianya);
        openChat("alice1", "alice", kTianya);
        openChat("alice2", "alice", kTianya);
        openChat("tianya", kTianya, "alice");

        type("alice1", "hello there, " + kTianya);
        for (const char* window : {"tianya", "alice2", "alice1"})
            CPPUNIT_ASSERT_MESSAGE(std::string("the line did not reach ") + window,
                                   waitForLine(window, {"alice: hello there, " + kTianya}));

        type("tianya", kHelloWorld + " from far away");
        for (const char* window : {"alice1", "alice2", "tianya"})
            CPPUNIT_ASSERT_MESSAGE(std::string("the CJK reply did not reach ") + window,
                                   waitForLine(window, {kTianya + ": " + kHelloWorld + " from far away"}));
        // Lines keep their order on every screen.
        const std::string screen = _tmux->capture("alice2");
        CPPUNIT_ASSERT(screen.find("hello there") < screen.find(kHelloWorld));
    }

    void testLineSentWithoutWindowShowsWhenWindowOpens()
    {
        _network->startPeerd("alice");
        _network->startPeerd("bob");
        auto bob = _network->attach("bob");
        auto alice = _network->attach("alice");
        // As contacts, bob's line is one of a conversation, not a request.
        makeContacts("bob", "alice");
        CPPUNIT_ASSERT(peerchat::test::waitInRoster(*bob, "alice"));
        CPPUNIT_ASSERT(peerchat::test::waitInRoster(*alice, "bob"));
        bob->sendLine(sendRequest("alice", "while you were out, " + kHelloWorld));
        CPPUNIT_ASSERT(bob->waitEvent("sent"));
        // alice's peerd has stored it when it counts it unread.
        CPPUNIT_ASSERT(alice->waitFor([](const LocalClient::Object& event) {
            return event->optValue<std::string>("event", "") == "unread" && event->getValue<std::string>("peer") == "bob";
        }));

        openChat("alice", "alice", "bob");
        CPPUNIT_ASSERT(waitForLine("alice", {"bob: while you were out, " + kHelloWorld}));
    }

    void testRosterShowsContactsAndStrangersWhoWrite()
    {
        _network->startPeerd("alice");
        openRoster("roster", "alice");
        CPPUNIT_ASSERT(_tmux->waitForText("roster", "No contacts yet: type /add NAME to ask someone to be one."));

        _network->startPeerd("bob");
        makeContacts("bob", "alice");
        CPPUNIT_ASSERT_MESSAGE("bob did not appear:\n" + _tmux->capture("roster"), waitInSection("roster", "bob", "Contacts online"));
        CPPUNIT_ASSERT(waitForLine("roster", {kSelectedOnlineRow + "bob"}));

        // carol is no contact: she shows when she writes, held as a request.
        _network->startPeerd("carol");
        auto carol = _network->attachOnline("carol");
        // She does not see alice online (presence goes only to contacts), so
        // her lines go through indexd's mailbox, which hands them to alice at once.
        carol->sendLine(sendRequest("alice", "psst"));
        CPPUNIT_ASSERT_MESSAGE("no unread count by carol", waitForLine("roster", {kRow + "carol", "1 unread"}));
        CPPUNIT_ASSERT(peerchat::test::rosterNames(*carol).empty());
        CPPUNIT_ASSERT(waitInSection("roster", "carol", "Requests"));
        CPPUNIT_ASSERT(waitForLine("roster", {"carol", "wrote to you; not a contact"}));
        CPPUNIT_ASSERT_EQUAL(std::string("1\n"), _tmux->tmux({"display-message", "-p", "-t", "test:roster", "#{window_bell_flag}"}));
        carol->sendLine(sendRequest("alice", "psst again"));
        CPPUNIT_ASSERT(waitForLine("roster", {"carol", "2 unread"}));

        // bob goes offline: he stays a contact, in the section below, still selected.
        _network->peerd("bob").signal(SIGTERM);
        CPPUNIT_ASSERT_EQUAL(0, _network->peerd("bob").waitExit());
        CPPUNIT_ASSERT_MESSAGE("bob did not go offline:\n" + _tmux->capture("roster"),
                               waitInSection("roster", "bob", "Contacts offline"));
        CPPUNIT_ASSERT(waitForLine("roster", {kSelectedRow + "bob"}));
        CPPUNIT_ASSERT(_tmux->capture("roster").find("Contacts online") == std::string::npos);
        CPPUNIT_ASSERT(sectionOf(_tmux->capture("roster"), "carol") == "Requests");
    }

    void testRosterOpensConversationAndReturns()
    {
        _network->startPeerd("alice");
        _network->startPeerd("bob");
        _network->startPeerd(kTianya);
        makeContacts("alice", "bob");
        auto tianya = _network->attach(kTianya);
        // tianya is no contact of alice: neither sees the other online, and
        // their lines go through indexd's mailbox.
        subscribeTo(*tianya, "alice");
        tianya->sendLine(sendRequest("alice", kHelloWorld));
        CPPUNIT_ASSERT(tianya->waitEvent("sent"));

        openRoster("roster", "alice");
        CPPUNIT_ASSERT(waitForLine("roster", {kSelectedOnlineRow + "bob"}));
        CPPUNIT_ASSERT(waitForLine("roster", {kTianya, "1 unread"}));
        CPPUNIT_ASSERT(sectionOf(_tmux->capture("roster"), kTianya) == "Requests");
        // j passes over the heading between them.
        _tmux->sendKeys("roster", {"j"});
        CPPUNIT_ASSERT(waitForLine("roster", {kSelectedRow + kTianya}));
        _tmux->sendKeys("roster", {"Enter"});
        CPPUNIT_ASSERT_MESSAGE("the conversation did not open", waitForLine("roster", {talking("alice") + kTianya}));
        CPPUNIT_ASSERT(waitForLine("roster", {kTianya + ": " + kHelloWorld}));

        type("roster", "got it");
        auto message = peerchat::test::waitMessage(*tianya, "got it");
        CPPUNIT_ASSERT_MESSAGE("the line typed in the roster's conversation did not arrive", message);
        CPPUNIT_ASSERT(peerchat::test::rosterNames(*tianya).empty());

        _tmux->sendKeys("roster", {"Escape"});
        CPPUNIT_ASSERT_MESSAGE("Esc did not go back to the roster", waitForLine("roster", {"peerchat alice"}));
        // Reading the conversation cleared the count.
        CPPUNIT_ASSERT(_tmux->waitForScreen("roster", [](const std::string& s) {
            return s.find("unread") == std::string::npos && s.find(kSelectedRow + kTianya) != std::string::npos;
        }));
        // Read, the lines of a non-contact keep it under the requests.
        CPPUNIT_ASSERT(sectionOf(_tmux->capture("roster"), kTianya) == "Requests");
        _tmux->sendKeys("roster", {"k"});
        CPPUNIT_ASSERT(waitForLine("roster", {kSelectedOnlineRow + "bob"}));
        _tmux->sendKeys("roster", {"q"});
        CPPUNIT_ASSERT(_tmux->waitForExit("roster"));
        CPPUNIT_ASSERT_EQUAL(0, _tmux->exitStatus("roster"));
    }

    void testQuitKeysCloseOnlyTheirWindow()
    {
        _network->startPeerd("alice");
        _network->startPeerd("bob");
        // Contacts see each other online, and talk peer to peer (issue 13).
        makeContacts("alice", "bob");
        openChat("slash", "alice", "bob");
        openChat("ctrlD", "alice", "bob");
        openChat("ctrlC", "alice", "bob");
        openChat("bob", "bob", "alice");

        type("slash", "/quit");
        CPPUNIT_ASSERT(_tmux->waitForExit("slash"));
        _tmux->sendKeys("ctrlD", {"C-d"});
        CPPUNIT_ASSERT(_tmux->waitForExit("ctrlD"));
        CPPUNIT_ASSERT(!_tmux->exited("ctrlC"));
        for (const char* window : {"slash", "ctrlD"}) CPPUNIT_ASSERT_EQUAL(0, _tmux->exitStatus(window));

        type("bob", "still there?");
        CPPUNIT_ASSERT_MESSAGE("the last window stopped working", waitForLine("ctrlC", {"bob: still there?"}));
        _tmux->sendKeys("ctrlC", {"C-c"});
        CPPUNIT_ASSERT(_tmux->waitForExit("ctrlC"));
        CPPUNIT_ASSERT_EQUAL(0, _tmux->exitStatus("ctrlC"));
        CPPUNIT_ASSERT_MESSAGE("closing windows touched peerd", _network->peerd("alice").running());
        CPPUNIT_ASSERT(!_tmux->exited("bob"));
    }

    void testReconnectsWhenPeerdComesBack()
    {
        _network->startPeerd("alice");
        _network->startPeerd("bob");
        // Contacts see each other online, and talk peer to peer (issue 13).
        makeContacts("alice", "bob");
        openChat("alice", "alice", "bob");
        auto bob = _network->attach("bob");
        subscribeTo(*bob, "alice");
        type("alice", "before");
        CPPUNIT_ASSERT(peerchat::test::waitMessage(*bob, "before"));

        _network->peerd("alice").signal(SIGTERM);
        CPPUNIT_ASSERT_EQUAL(0, _network->peerd("alice").waitExit());
        CPPUNIT_ASSERT_MESSAGE("no word that peerd is gone", waitForLine("alice", {"peerd is unreachable"}));

        _network->startPeerd("alice");
        CPPUNIT_ASSERT_MESSAGE("chatui did not come back", _tmux->waitForScreen("alice", [](const std::string& s) {
            return s.find("(online)") != std::string::npos && s.find("unreachable") == std::string::npos;
        }));
        type("alice", "after");
        CPPUNIT_ASSERT_MESSAGE("a line typed after the reconnect did not arrive", peerchat::test::waitMessage(*bob, "after"));
        CPPUNIT_ASSERT(waitForLine("alice", {"alice: after"}));
    }

    void testResizeWrapsAtNewWidth()
    {
        _network->startPeerd("alice");
        _network->startPeerd("bob");
        // Contacts see each other online, and talk peer to peer (issue 13).
        makeContacts("alice", "bob");
        openChat("alice", "alice", "bob");
        std::string text;
        for (int i = 0; i < 12; ++i) text += kHelloWorld + " word" + std::to_string(i) + " ";
        text += "END";
        type("alice", text);
        CPPUNIT_ASSERT(waitForLine("alice", {"END"}));

        _tmux->resize("alice", 40, 20);
        CPPUNIT_ASSERT_MESSAGE("the line was not wrapped again at 40 columns", _tmux->waitForScreen("alice", [](const std::string& s) {
            bool allFit = true;
            std::istringstream lines(s);
            std::string line;
            int rows = 0;
            while (std::getline(lines, line)) {
                allFit = allFit && columnsOf(line) <= 40;
                ++rows;
            }
            return allFit && rows <= 20 && s.find("END") != std::string::npos && s.find("word11") != std::string::npos;
        }));
        // Each wrapped row starts under the text, never in the middle of a CJK character.
        CPPUNIT_ASSERT(hasLine(_tmux->capture("alice"), [](const std::string& line) {
            return line.compare(0, 16, std::string(16, ' ')) == 0 && line.find("word") != std::string::npos;
        }));
    }

    void testControlCharactersAreShownReplaced()
    {
        _network->startPeerd("alice");
        _network->startPeerd("bob");
        // Contacts see each other online, and talk peer to peer (issue 13).
        makeContacts("alice", "bob");
        openChat("alice", "alice", "bob");
        auto bob = _network->attach("bob");
        type("alice", "first line");
        CPPUNIT_ASSERT(waitForLine("alice", {"alice: first line"}));

        // Clear-screen and bell escapes, and a right-to-left override.
        bob->sendLine(sendRequest("alice", R"(evil\u001b[2J\u0007x\u202Eyz)"));
        CPPUNIT_ASSERT(waitForLine("alice", {"bob: evil" + kReplacement + "[2J" + kReplacement + "x" + kReplacement + "yz"}));
        CPPUNIT_ASSERT_MESSAGE("an escape cleared the screen", waitForLine("alice", {"alice: first line"}));
    }

    void testEditingKeysEditWideCharacters()
    {
        _network->startPeerd("alice");
        _network->startPeerd("bob");
        // Contacts see each other online, and talk peer to peer (issue 13).
        makeContacts("alice", "bob");
        openChat("alice", "alice", "bob");
        auto bob = _network->attach("bob");
        subscribeTo(*bob, "alice");

        // 你好世界abc, four Backspaces (abc and 界), Left, Backspace (好), Home, Right, X.
        _tmux->sendText("alice", kHelloWorld + "abc");
        _tmux->sendKeys("alice", {"BSpace", "BSpace", "BSpace", "BSpace", "Left", "BSpace", "Home", "Right"});
        _tmux->sendText("alice", "X");
        _tmux->sendKeys("alice", {"End"});
        _tmux->sendText("alice", " one two");
        _tmux->sendKeys("alice", {"C-w", "Enter"});
        const std::string expected = "\xE4\xBD\xA0X\xE4\xB8\x96 one "; // 你X世 one
        CPPUNIT_ASSERT_MESSAGE("editing gave another line", peerchat::test::waitMessage(*bob, expected));

        _tmux->sendText("alice", "gone");
        _tmux->sendKeys("alice", {"C-u"});
        _tmux->sendText("alice", "kept");
        _tmux->sendKeys("alice", {"Enter"});
        CPPUNIT_ASSERT(peerchat::test::waitMessage(*bob, "kept"));
    }

    void testUnreachablePeerdSaysWhatToRun()
    {
        TempDir runtime;
        _tmux->newWindow("nobody", {"env", "XDG_RUNTIME_DIR=" + runtime.path(), DaemonProcess::binary("chatui"),
                                    "--user", "zed"});
        CPPUNIT_ASSERT(_tmux->waitForExit("nobody"));
        CPPUNIT_ASSERT_EQUAL(1, _tmux->exitStatus("nobody"));
        const std::string screen = _tmux->transcript("nobody");
        CPPUNIT_ASSERT_MESSAGE(screen, screen.find("cannot reach peerd for zed at " + runtime.path()
                                                   + "/peerchat/zed.sock (no such file)") != std::string::npos);
        CPPUNIT_ASSERT_MESSAGE(screen, screen.find("peerd --user zed --index") != std::string::npos);
    }

    void testSentLinesShowTheirMark()
    {
        // A seed client logs in and talks only where indexd and peerd speak the plain protocol.
        _network = std::make_unique<ChatNetwork>(ChatNetwork::Wire::Legacy);
        _network->startPeerd("alice");
        _network->startPeerd("bob");
        // Contacts see each other online, and talk peer to peer (issue 13).
        makeContacts("alice", "bob");
        SeedClient sam;
        CPPUNIT_ASSERT(sam.login("sam", _network->index()));
        openChat("bob", "alice", "bob");
        openChat("sam", "alice", "sam");

        // bob's peerd acks the line, and the mark says so.
        type("bob", "to a peerchat peer");
        CPPUNIT_ASSERT_MESSAGE(_tmux->capture("bob"), waitForMarkedLine("bob", kDeliveredMark, "alice: to a peerchat peer"));

        // A seed client cannot confirm: the line goes out and carries no mark.
        type("sam", "to a seed client");
        const auto talk = sam.receiveStartingWith("talk,");
        CPPUNIT_ASSERT_MESSAGE("the seed client got nothing", talk);
        CPPUNIT_ASSERT(peerchat::test::isPeerdTalk(*talk, "alice", "to a seed client"));
        CPPUNIT_ASSERT(waitForMarkedLine("sam", " ", "alice: to a seed client"));

        // Its lines are plain talk, which nobody signed: marked, and so is sam.
        sam.send("talk,12:00:00,sam,hello from the seed", _network->udpOf("alice"));
        CPPUNIT_ASSERT_MESSAGE(_tmux->capture("sam"), waitForMarkedLine("sam", kUnverifiedMark, "sam: hello from the seed"));
        CPPUNIT_ASSERT(waitForLine("sam", {talking("alice") + "sam (online) ?unverified"}));
        // The legend, unverified mark and all, shows when the header has room for it besides alice's state.
        _tmux->resize("sam", 120, 30);
        CPPUNIT_ASSERT_MESSAGE(_tmux->capture("sam"), waitForLine("sam", {kUnverifiedMark + " unverified"}));
        CPPUNIT_ASSERT(_tmux->capture("bob").find("unverified") == std::string::npos);
    }

    void testLineToOfflinePeerIsDeliveredWhenPeerIsBack()
    {
        _network->startPeerd("alice");
        _network->startPeerd("bob");
        // Contacts see each other online, and talk peer to peer (issue 13).
        makeContacts("alice", "bob");
        openChat("alice", "alice", "bob");
        _network->peerd("bob").signal(SIGTERM);
        CPPUNIT_ASSERT_EQUAL(0, _network->peerd("bob").waitExit());
        CPPUNIT_ASSERT(waitForLine("alice", {"bob is offline; lines you send wait for them"}));

        // peerd keeps the line and hands it to indexd: pending until indexd answers stored.
        type("alice", "call me when you are back");
        CPPUNIT_ASSERT_MESSAGE(_tmux->capture("alice"), waitForMarkedLine("alice", {kPendingMark, kStoredMark},
                                                                          "alice: call me when you are back"));

        _network->startPeerd("bob");
        CPPUNIT_ASSERT_MESSAGE(_tmux->capture("alice"),
                               waitForMarkedLine("alice", kDeliveredMark, "alice: call me when you are back"));
        auto bob = _network->attach("bob");
        bob->sendLine(peerRequest("subscribe", "alice"));
        const auto history = bob->waitEvent("history");
        CPPUNIT_ASSERT(history);
        const auto lines = history->getArray("lines");
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), lines->size());
        CPPUNIT_ASSERT_EQUAL(std::string("call me when you are back"), lines->getObject(0)->getValue<std::string>("text"));
    }

    void testMarksFollowStatusEvents()
    {
        using namespace peerchat::local;
        TempDir dir;
        ScriptedPeerd peerd(dir.file("peerd.sock"));
        attachScripted(peerd, dir.file("peerd.sock"), true,
                       {chatLine(1, "bob", "hello alice", LineState::Received),
                        chatLine(2, "alice", "one delivered", LineState::Delivered),
                        chatLine(3, "alice", "one pending", LineState::Pending),
                        chatLine(4, "alice", "one stored", LineState::Stored),
                        chatLine(5, "alice", "one failed", LineState::Failed),
                        chatLine(6, "alice", "one sent", LineState::Sent)});

        CPPUNIT_ASSERT(waitForMarkedLine("alice", " ", "bob: hello alice"));
        CPPUNIT_ASSERT(waitForMarkedLine("alice", kDeliveredMark, "alice: one delivered"));
        CPPUNIT_ASSERT(waitForMarkedLine("alice", kPendingMark, "alice: one pending"));
        CPPUNIT_ASSERT(waitForMarkedLine("alice", kStoredMark, "alice: one stored"));
        CPPUNIT_ASSERT(waitForMarkedLine("alice", kFailedMark, "alice: one failed"));
        CPPUNIT_ASSERT(waitForMarkedLine("alice", " ", "alice: one sent"));
        CPPUNIT_ASSERT_MESSAGE("no word about the failed line", waitForLine("alice", {"1 line not yet delivered (will retry)"}));
        // The legend sits in the header.
        CPPUNIT_ASSERT(waitForLine("alice", {"bob (online)", kPendingMark + " pending", kDeliveredMark + " delivered"}));

        // Marks change live, on the lines the status events name.
        peerd.send(StatusEvent{ConversationId::direct("bob"), 3, LineState::Delivered});
        peerd.send(StatusEvent{ConversationId::direct("bob"), 5, LineState::Delivered});
        peerd.send(StatusEvent{ConversationId::direct("bob"), 99, LineState::Failed});
        CPPUNIT_ASSERT(waitForMarkedLine("alice", kDeliveredMark, "alice: one pending"));
        CPPUNIT_ASSERT(waitForMarkedLine("alice", kDeliveredMark, "alice: one failed"));
        CPPUNIT_ASSERT(_tmux->waitForScreen("alice", [](const std::string& s) { return s.find("not yet delivered") == std::string::npos; }));
        CPPUNIT_ASSERT(waitForMarkedLine("alice", kStoredMark, "alice: one stored"));

        // A line typed now goes out pending and is marked when peerd says so.
        type("alice", "one more");
        const SendRequest oneMore = peerd.waitRequest<SendRequest>();
        CPPUNIT_ASSERT_EQUAL(std::string("one more"), oneMore.text);
        peerd.send(SentEvent{ConversationId::direct("bob"), 7, oneMore.key});
        peerd.send(MessageEvent{chatLine(7, "alice", "one more", LineState::Pending)});
        CPPUNIT_ASSERT(waitForMarkedLine("alice", kPendingMark, "alice: one more"));
        peerd.send(StatusEvent{ConversationId::direct("bob"), 7, LineState::Failed});
        CPPUNIT_ASSERT(waitForMarkedLine("alice", kFailedMark, "alice: one more"));
        CPPUNIT_ASSERT(waitForLine("alice", {"1 line not yet delivered (will retry)"}));
        peerd.send(StatusEvent{ConversationId::direct("bob"), 4, LineState::Failed});
        CPPUNIT_ASSERT(waitForLine("alice", {"2 lines not yet delivered (will retry)"}));
        peerd.send(StatusEvent{ConversationId::direct("bob"), 7, LineState::Delivered});
        CPPUNIT_ASSERT(waitForMarkedLine("alice", kDeliveredMark, "alice: one more"));
        CPPUNIT_ASSERT(waitForLine("alice", {"1 line not yet delivered (will retry)"}));
    }

    void testRefusedLineReturnsToInput()
    {
        using namespace peerchat::local;
        TempDir dir;
        ScriptedPeerd peerd(dir.file("peerd.sock"));
        attachScripted(peerd, dir.file("peerd.sock"), false, {});
        CPPUNIT_ASSERT(waitForLine("alice", {"bob is offline; lines you send wait for them"}));

        // A line to an offline peer goes to peerd, which may refuse it.
        type("alice", "are you there?");
        const SendRequest refused = peerd.waitRequest<SendRequest>();
        CPPUNIT_ASSERT_EQUAL(std::string("are you there?"), refused.text);
        peerd.send(ErrorEvent{"send", "the line to bob was not sent: the disk is full", refused.key});
        CPPUNIT_ASSERT_MESSAGE("the refused line is not back in the input", waitForLine("alice", {"> are you there?"}));
        CPPUNIT_ASSERT(waitForLine("alice", {"the line to bob was not sent: the disk is full"}));

        // Enter sends it again; taken, it leaves the input and shows as stored.
        _tmux->sendKeys("alice", {"Enter"});
        const SendRequest again = peerd.waitRequest<SendRequest>();
        CPPUNIT_ASSERT_EQUAL(std::string("are you there?"), again.text);
        CPPUNIT_ASSERT_MESSAGE("a new send reused the refused one's key", again.key != refused.key);
        peerd.send(SentEvent{ConversationId::direct("bob"), 1, again.key});
        peerd.send(MessageEvent{chatLine(1, "alice", "are you there?", LineState::Stored)});
        CPPUNIT_ASSERT(waitForMarkedLine("alice", kStoredMark, "alice: are you there?"));
        CPPUNIT_ASSERT(_tmux->waitForScreen("alice", [](const std::string& s) { return s.find("> are you") == std::string::npos; }));
    }

    void testLineTypedAsPeerdDiesShowsOnceWhenItIsBack()
    {
        _network->startPeerd("alice");
        _network->startPeerd("bob");
        // Contacts see each other online, and talk peer to peer (issue 13).
        makeContacts("alice", "bob");
        openChat("alice", "alice", "bob");
        auto bob = _network->attach("bob");
        subscribeTo(*bob, "alice");
        // alice's peerd hangs, the line goes out to it unread, and it dies.
        _network->peerd("alice").freeze();
        type("alice", "typed as peerd died");
        CPPUNIT_ASSERT(_tmux->waitForScreen("alice", [](const std::string& s) { return s.find("> typed") == std::string::npos; }));
        const std::string udp = _network->udpOf("alice");
        _network->peerd("alice").signal(SIGKILL);
        CPPUNIT_ASSERT_EQUAL(128 + SIGKILL, _network->peerd("alice").waitExit());
        CPPUNIT_ASSERT(waitForLine("alice", {"peerd is unreachable"}));
        const std::string waiting = _tmux->capture("alice");

        _network->startPeerd("alice", {"--port", udp.substr(udp.rfind(':') + 1)});
        CPPUNIT_ASSERT_MESSAGE("the line typed as peerd died did not arrive",
                               peerchat::test::waitMessage(*bob, "typed as peerd died"));
        CPPUNIT_ASSERT_MESSAGE("no word that the line waits:\n" + waiting,
                               waiting.find("1 line waits: peerd is unreachable") != std::string::npos);
        CPPUNIT_ASSERT(waitForLine("alice", {"alice: typed as peerd died"}));
        // Once: on the screen, and in what peerd keeps.
        type("alice", "marker");
        CPPUNIT_ASSERT(waitForLine("alice", {"alice: marker"}));
        const std::string screen = _tmux->capture("alice");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(screen, screen.find("typed as peerd died"), screen.rfind("typed as peerd died"));
        CPPUNIT_ASSERT_MESSAGE("bob got the line twice",
                               !peerchat::test::waitMessage(*bob, "typed as peerd died", std::chrono::milliseconds(0)));
    }

    void testUnansweredSendGoesAgainUnderItsKey()
    {
        using namespace peerchat::local;
        TempDir dir;
        ScriptedPeerd peerd(dir.file("peerd.sock"));
        attachScripted(peerd, dir.file("peerd.sock"), true, {});

        // peerd stores the line and dies before it answers.
        type("alice", "stored, never answered");
        const SendRequest first = peerd.waitRequest<SendRequest>();
        CPPUNIT_ASSERT(LocalProtocol::isSendKey(first.key));
        // chatui reconnects at once (the listening socket takes it), and waits for a welcome.
        peerd.hangUp();

        // Back, peerd has the line in its history; chatui sends it again under its key.
        peerd.accept();
        peerd.send(WelcomeEvent{kProtocolVersion, "alice", LinkState::Online, "127.0.0.1:4000", kAliceFingerprint});
        peerd.waitRequest<RosterRequest>();
        peerd.send(RosterEvent{{UserInfo{"bob", "127.0.0.1:4001", "peerchat", Trust::Pinned}}, {}});
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), peerd.waitRequest<SubscribeRequest>().conversation.name());
        peerd.send(HistoryEvent{ConversationId::direct("bob"), {chatLine(1, "alice", "stored, never answered", LineState::Pending)}});
        const SendRequest again = peerd.waitRequest<SendRequest>();
        CPPUNIT_ASSERT_EQUAL(first.key, again.key);
        CPPUNIT_ASSERT_EQUAL(first.text, again.text);
        // A repeated key is answered with the stored line's id, and no message event.
        peerd.send(SentEvent{ConversationId::direct("bob"), 1, again.key});
        CPPUNIT_ASSERT(waitForMarkedLine("alice", kPendingMark, "alice: stored, never answered"));
        CPPUNIT_ASSERT(_tmux->waitForScreen("alice", [](const std::string& s) {
            return s.find("unreachable") == std::string::npos && s.find("line waits") == std::string::npos;
        }));
        const std::string screen = _tmux->capture("alice");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(screen, screen.find("stored, never answered"), screen.rfind("stored, never answered"));
    }

    void testSearchShowsEarlierLineAndReturns()
    {
        _network->startPeerd("alice");
        _network->startPeerd("bob");
        // Contacts see each other online, and talk peer to peer (issue 13).
        makeContacts("alice", "bob");
        openChat("alice", "alice", "bob");
        auto bob = _network->attach("bob");
        subscribeTo(*bob, "alice");
        type("alice", "lunch at noon, " + kTianya + "?");
        CPPUNIT_ASSERT(peerchat::test::waitMessage(*bob, "lunch at noon, " + kTianya + "?"));
        bob->sendLine(sendRequest("alice", "no, dinner at eight"));
        CPPUNIT_ASSERT(waitForLine("alice", {"bob: no, dinner at eight"}));
        type("alice", "fine, dinner then");
        CPPUNIT_ASSERT(waitForLine("alice", {"alice: fine, dinner then"}));

        type("alice", "/search lunch");
        CPPUNIT_ASSERT_MESSAGE("no search results:\n" + _tmux->capture("alice"),
                               waitForLine("alice", {"1 line found", "Esc back"}));
        const std::string results = _tmux->capture("alice");
        CPPUNIT_ASSERT_MESSAGE(results, results.find("search: lunch") != std::string::npos);
        // The line found, with its date, time and sender; nothing else.
        CPPUNIT_ASSERT_MESSAGE(results, hasLine(results, [](const std::string& line) {
            return std::regex_search(line, std::regex("^20[0-9][0-9]-[01][0-9]-[0-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-5][0-9] "
                                                      ".{1,3} alice: lunch at noon, "));
        }));
        CPPUNIT_ASSERT_MESSAGE(results, results.find("dinner") == std::string::npos);
        // What was looked for stands out from the rest of the line.
        CPPUNIT_ASSERT_MESSAGE(styledScreen(), hasHighlighted("lunch", " at noon"));

        _tmux->sendKeys("alice", {"Escape"});
        CPPUNIT_ASSERT_MESSAGE("Esc did not go back to the conversation", waitForLine("alice", {"bob: no, dinner at eight"}));
        CPPUNIT_ASSERT(waitForLine("alice", {"alice: lunch at noon"}));
        CPPUNIT_ASSERT(waitForLine("alice", {"Enter send", "/search find"}));
        CPPUNIT_ASSERT_MESSAGE(styledScreen(), !hasHighlighted("lunch", " at noon"));

        type("alice", "/search breakfast");
        CPPUNIT_ASSERT(waitForLine("alice", {"No line with bob contains 'breakfast'."}));
        CPPUNIT_ASSERT(_tmux->capture("alice").find("lunch") == std::string::npos);
        type("alice", "/search");
        CPPUNIT_ASSERT_MESSAGE("a bare /search did not go back", waitForLine("alice", {"alice: fine, dinner then"}));
        CPPUNIT_ASSERT(_tmux->capture("alice").find("breakfast") == std::string::npos);

        // A line typed over the results is sent, and the conversation comes back to show it.
        type("alice", "/search dinner");
        CPPUNIT_ASSERT(waitForLine("alice", {"2 lines found"}));
        type("alice", "see you");
        CPPUNIT_ASSERT(peerchat::test::waitMessage(*bob, "see you"));
        CPPUNIT_ASSERT(waitForLine("alice", {"alice: see you"}));
        CPPUNIT_ASSERT(waitForLine("alice", {"alice: lunch at noon"}));
    }

    void testWhoamiShowsTheFingerprintOthersVerify()
    {
        _network->startPeerd("alice");
        _network->startPeerd("bob");
        // Contacts see each other online, and talk peer to peer (issue 13).
        makeContacts("alice", "bob");
        openChat("alice", "alice", "bob");
        type("alice", "/whoami");
        CPPUNIT_ASSERT_MESSAGE(_tmux->capture("alice"), waitForLine("alice", {"you are:", "alice"}));
        const std::string mine = fingerprintAfter("alice", "your key:");
        CPPUNIT_ASSERT_MESSAGE("no fingerprint after /whoami:\n" + _tmux->capture("alice"), !mine.empty());
        CPPUNIT_ASSERT_EQUAL(fingerprintOf(_network->keyOf("alice")), mine);
        _tmux->sendKeys("alice", {"Escape"});
        CPPUNIT_ASSERT(_tmux->waitForScreen("alice", [](const std::string& s) { return s.find("your key:") == std::string::npos; }));

        // bob's peerd pinned alice's key when it saw her: /verify alice shows the same fingerprint.
        openChat("bob", "bob", "alice");
        type("bob", "/verify");
        CPPUNIT_ASSERT_MESSAGE(_tmux->capture("bob"), waitForLine("bob", {"alice's pinned key:"}));
        CPPUNIT_ASSERT_EQUAL(mine, fingerprintAfter("bob", "alice's pinned key:"));
        CPPUNIT_ASSERT(mine != fingerprintAfter("bob", "your key:"));
    }

    void testKeyChangeOfRealPeerWarnsUntilTrusted()
    {
        // alice's peerd notices indexd's restart at its next heartbeat.
        _network->startPeerd("alice", {"--heartbeat-ms", "200"});
        _network->startPeerd("bob");
        makeContacts("alice", "bob");
        openChat("alice", "alice", "bob");
        openRoster("roster", "alice");
        type("alice", "to the first bob");
        CPPUNIT_ASSERT(waitForMarkedLine("alice", kDeliveredMark, "alice: to the first bob"));

        // bob goes; indexd comes back having forgotten whose key bob's is; a
        // new bob, with a key of his own, logs in.
        _network->peerd("bob").signal(SIGTERM);
        CPPUNIT_ASSERT_EQUAL(0, _network->peerd("bob").waitExit());
        CPPUNIT_ASSERT(waitForLine("alice", {talking("alice") + "bob (offline)"}));
        _network->restartIndexd(true);
        // alice logs in again first: the reset indexd must know her name before bob can ask her.
        CPPUNIT_ASSERT_MESSAGE(_network->indexd().log(), _network->indexd().waitForLog("login alice at"));
        TempDir device;
        _network->startPeerd("bob", {"--key", device.file("bob.key"), "--database", device.file("bob.db"),
                                     "--retransmit-ms", "100"});
        // The new device has no contacts: its user asks alice, and she, who
        // has bob as a contact, sees him online again (under the new key).
        auto bob = _network->attachOnline("bob");
        bob->sendLine(peerRequest("add", "alice"));

        CPPUNIT_ASSERT_MESSAGE(_tmux->capture("alice") + _network->peerd("alice").log() + _network->peerd("bob").log() +
                                   _network->indexd().log(),
                               waitForLine("alice", {talking("alice") + "bob (online) !key changed"}));
        CPPUNIT_ASSERT(waitForLine("alice", {"bob's key changed: lines are not sent until you compare fingerprints"}));
        CPPUNIT_ASSERT_MESSAGE(_tmux->capture("roster"), waitForLine("roster", {kSelectedOnlineRow + "bob !key changed"}));
        CPPUNIT_ASSERT(waitForLine("roster", {"bob's key changed: open the chat, then /verify bob and /trust bob"}));

        // peerd refuses a line to the new key; it comes back to the input.
        type("alice", "not for an unknown key");
        CPPUNIT_ASSERT_MESSAGE(_tmux->capture("alice"),
                               waitForLine("alice", {"bob's key changed: compare fingerprints with /verify bob"}));
        CPPUNIT_ASSERT(waitForLine("alice", {"> not for an unknown key"}));
        _tmux->sendKeys("alice", {"C-u"});
        // Nor does a line from the new key reach alice's window.
        bob->sendLine(sendRequest("alice", "from the new bob"));
        CPPUNIT_ASSERT(bob->waitEvent("sent"));
        CPPUNIT_ASSERT(!_tmux->waitForText("alice", "from the new bob", std::chrono::seconds(1)));

        type("alice", "/verify bob");
        CPPUNIT_ASSERT_MESSAGE(_tmux->capture("alice"), waitForLine("alice", {"bob now presents:"}));
        CPPUNIT_ASSERT_EQUAL(fingerprintOf(_network->keyOf("alice")), fingerprintAfter("alice", "your key:"));
        CPPUNIT_ASSERT_EQUAL(fingerprintOf(_network->keyOf("bob")), fingerprintAfter("alice", "bob's pinned key:"));
        CPPUNIT_ASSERT_EQUAL(fingerprintOf(device.file("bob.key")), fingerprintAfter("alice", "bob now presents:"));

        type("alice", "/trust bob");
        CPPUNIT_ASSERT_MESSAGE(_tmux->capture("alice"), waitForLine("alice", {"You accepted the key bob now presents"}));
        CPPUNIT_ASSERT(_tmux->waitForScreen("alice", [](const std::string& s) {
            return s.find("!key changed") == std::string::npos && s.find("lines are not sent") == std::string::npos;
        }));
        CPPUNIT_ASSERT(_tmux->waitForScreen("roster", [](const std::string& s) { return s.find("key changed") == std::string::npos; }));

        // bob's line, which his peerd kept sending, is taken now; alice's go out.
        CPPUNIT_ASSERT_MESSAGE(_tmux->capture("alice"), waitForLine("alice", {"bob: from the new bob"}));
        subscribeTo(*bob, "alice");
        type("alice", "to the new bob");
        CPPUNIT_ASSERT_MESSAGE(_network->peerd("alice").log(), peerchat::test::waitMessage(*bob, "to the new bob"));
        CPPUNIT_ASSERT_MESSAGE(_tmux->capture("alice"), waitForMarkedLine("alice", kDeliveredMark, "alice: to the new bob"));
    }

    void testChangedKeyWarnsUntilTrusted()
    {
        using namespace peerchat::local;
        TempDir dir;
        ScriptedPeerd peerd(dir.file("peerd.sock"));
        attachScripted(peerd, dir.file("peerd.sock"), true, {chatLine(1, "bob", "hello alice", LineState::Received)},
                       Trust::Changed);
        CPPUNIT_ASSERT(waitForLine("alice", {"alice" + kArrow + "bob (online) !key changed"}));
        CPPUNIT_ASSERT_MESSAGE(_tmux->capture("alice"),
                               waitForLine("alice", {"bob's key changed: lines are not sent until you compare fingerprints (/verify bob)"}));

        // A line typed now goes to peerd, which refuses it; it comes back to the input.
        type("alice", "are you still you?");
        const SendRequest refused = peerd.waitRequest<SendRequest>();
        CPPUNIT_ASSERT_EQUAL(std::string("are you still you?"), refused.text);
        peerd.send(ErrorEvent{"send", "bob's key changed: compare fingerprints with /verify bob, then /trust bob",
                              refused.key});
        CPPUNIT_ASSERT(waitForLine("alice", {"bob's key changed: compare fingerprints with /verify bob, then /trust bob"}));
        CPPUNIT_ASSERT(waitForLine("alice", {"> are you still you?"}));
        _tmux->sendKeys("alice", {"C-u"});

        type("alice", "/verify");
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), peerd.waitRequest<VerifyRequest>().peer);
        peerd.send(KeysEvent{"bob", kAliceFingerprint, kBobPinned, kBobOffered, Trust::Changed});
        CPPUNIT_ASSERT_MESSAGE(_tmux->capture("alice"), waitForLine("alice", {"your key:", kAliceFingerprint}));
        CPPUNIT_ASSERT(waitForLine("alice", {"bob's pinned key:", kBobPinned}));
        CPPUNIT_ASSERT(waitForLine("alice", {"bob now presents:", kBobOffered}));
        CPPUNIT_ASSERT(waitForLine("alice", {"/trust bob"}));
        // The warning stays while the key is changed.
        CPPUNIT_ASSERT(waitForLine("alice", {"bob's key changed: lines are not sent"}));

        type("alice", "/trust bob");
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), peerd.waitRequest<TrustRequest>().peer);
        peerd.send(TrustEvent{"bob", Trust::Pinned});
        CPPUNIT_ASSERT_MESSAGE(_tmux->capture("alice"), waitForLine("alice", {"You accepted the key bob now presents"}));
        CPPUNIT_ASSERT(_tmux->waitForScreen("alice", [](const std::string& s) {
            return s.find("lines are not sent") == std::string::npos && s.find("!key changed") == std::string::npos;
        }));
        _tmux->sendKeys("alice", {"Escape"});
        CPPUNIT_ASSERT(_tmux->waitForScreen("alice", [](const std::string& s) { return s.find("You accepted") == std::string::npos; }));
        CPPUNIT_ASSERT(waitForMarkedLine("alice", " ", "bob: hello alice"));

        // peerd may say the key changed again, live.
        peerd.send(TrustEvent{"bob", Trust::Changed});
        CPPUNIT_ASSERT(waitForLine("alice", {"bob's key changed: lines are not sent"}));
    }

    void testRosterTagsChangedAndUnverifiedPeers()
    {
        using namespace peerchat::local;
        TempDir dir;
        ScriptedPeerd peerd(dir.file("peerd.sock"));
        _tmux->newWindow("roster", {DaemonProcess::binary("chatui"), "--socket", dir.file("peerd.sock")});
        peerd.accept();
        peerd.send(WelcomeEvent{kProtocolVersion, "alice", LinkState::Online, "127.0.0.1:4000", kAliceFingerprint});
        peerd.waitRequest<RosterRequest>();
        std::vector<ContactInfo> contacts;
        for (const char* name : {"bob", "carol", "sam"}) contacts.push_back(ContactInfo{name, Relation::Contact});
        peerd.send(RosterEvent{{UserInfo{"bob", "127.0.0.1:4001", "peerchat", Trust::Changed},
                                UserInfo{"carol", "127.0.0.1:4002", "peerchat", Trust::Pinned},
                                UserInfo{"sam", "127.0.0.1:4003", "seed", Trust::Unverified}},
                               {},
                               contacts});
        CPPUNIT_ASSERT_MESSAGE(_tmux->capture("roster"), waitForLine("roster", {kSelectedOnlineRow + "bob !key changed"}));
        CPPUNIT_ASSERT(waitForLine("roster", {kOnlineRow + "sam ?unverified"}));
        CPPUNIT_ASSERT(hasLine(_tmux->capture("roster"), [](const std::string& line) { return line == kOnlineRow + "carol"; }));
        CPPUNIT_ASSERT(waitForLine("roster", {"bob's key changed: open the chat, then /verify bob and /trust bob"}));

        // Trusted from another window: the tag and the warning go.
        peerd.send(TrustEvent{"bob", Trust::Pinned});
        CPPUNIT_ASSERT(waitForLine("roster", {"j/k move", "i whoami"}));
        CPPUNIT_ASSERT(_tmux->capture("roster").find("!key changed") == std::string::npos);
        _tmux->sendKeys("roster", {"i"});
        CPPUNIT_ASSERT_MESSAGE(_tmux->capture("roster"), waitForLine("roster", {"you are alice, key " + kAliceFingerprint}));
    }

    void testUnverifiedLinesAreMarkedAndExplained()
    {
        using namespace peerchat::local;
        TempDir dir;
        ScriptedPeerd peerd(dir.file("peerd.sock"));
        auto plain = chatLine(1, "bob", "plain hello", LineState::Received);
        plain.verified = false;
        attachScripted(peerd, dir.file("peerd.sock"), true,
                       {plain, chatLine(2, "alice", "hi, seed client", LineState::Sent)}, Trust::Unverified);
        CPPUNIT_ASSERT(waitForLine("alice", {"alice" + kArrow + "bob (online) ?unverified"}));
        CPPUNIT_ASSERT(waitForMarkedLine("alice", kUnverifiedMark, "bob: plain hello"));
        CPPUNIT_ASSERT(waitForMarkedLine("alice", " ", "alice: hi, seed client"));
        CPPUNIT_ASSERT(waitForLine("alice", {kDeliveredMark + " delivered", kUnverifiedMark + " unverified"}));

        type("alice", "/help");
        CPPUNIT_ASSERT_MESSAGE(_tmux->capture("alice"), waitForLine("alice", {"/verify [NAME]"}));
        CPPUNIT_ASSERT(waitForLine("alice", {"/trust [NAME]"}));
        CPPUNIT_ASSERT(waitForLine("alice", {"/whoami"}));
        CPPUNIT_ASSERT(waitForLine("alice", {"?unverified: a seed or .NET client"}));
        CPPUNIT_ASSERT(waitForLine("alice", {"!key changed: "}));
        _tmux->sendKeys("alice", {"Escape"});
        CPPUNIT_ASSERT(_tmux->waitForScreen("alice", [](const std::string& s) { return s.find("/verify [NAME]") == std::string::npos; }));

        type("alice", "/verify");
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), peerd.waitRequest<VerifyRequest>().peer);
        peerd.send(KeysEvent{"bob", kAliceFingerprint, "", "", Trust::Unverified});
        CPPUNIT_ASSERT_MESSAGE(_tmux->capture("alice"), waitForLine("alice", {"bob's key:", "none: a seed or .NET client"}));

        // An unknown command says what to type.
        type("alice", "/whois bob");
        CPPUNIT_ASSERT(waitForLine("alice", {"unknown command /whois; /help lists the commands"}));
    }

    void testRequestTypedInRosterIsAcceptedInTheOther()
    {
        _network->startPeerd("alice");
        _network->startPeerd("bob");
        openRoster("alice", "alice");
        openRoster("bob", "bob");

        type("bob", "/add alice hi alice, it's bob: lunch friday?");
        CPPUNIT_ASSERT_MESSAGE(_tmux->capture("bob"), waitForLine("bob", {"asked alice to be a contact"}));
        CPPUNIT_ASSERT(waitInSection("bob", "alice", "Asked by you"));
        CPPUNIT_ASSERT(waitForLine("bob", {kSelectedRow + "alice", "waiting for an answer"}));

        // alice's roster shows the request, its note and how to answer it.
        CPPUNIT_ASSERT_MESSAGE(_tmux->capture("alice") + _network->peerd("alice").log(),
                               waitInSection("alice", "bob", "Requests"));
        CPPUNIT_ASSERT(waitForLine("alice", {kSelectedRow + "bob", "\"hi alice, it's bob: lunch friday?\""}));
        CPPUNIT_ASSERT(waitForLine("alice", {kRow + "/accept bob or /decline bob"}));

        // /help lists the commands the roster takes; Esc closes it.
        type("alice", "/help");
        CPPUNIT_ASSERT_MESSAGE(_tmux->capture("alice"), waitForLine("alice", {"/accept NAME", "take NAME's request"}));
        CPPUNIT_ASSERT(waitForLine("alice", {"/block NAME"}));
        _tmux->sendKeys("alice", {"Escape"});
        CPPUNIT_ASSERT(_tmux->waitForScreen("alice", [](const std::string& s) { return s.find("/block NAME") == std::string::npos; }));

        type("alice", "/accept bob");
        CPPUNIT_ASSERT_MESSAGE(_tmux->capture("alice"), waitForLine("alice", {"bob is a contact now"}));
        CPPUNIT_ASSERT(waitInSection("alice", "bob", "Contacts online"));
        CPPUNIT_ASSERT(_tmux->capture("alice").find("Requests") == std::string::npos);
        CPPUNIT_ASSERT_MESSAGE(_tmux->capture("bob") + _network->peerd("bob").log(),
                               waitInSection("bob", "alice", "Contacts online"));
        CPPUNIT_ASSERT(_tmux->capture("bob").find("Asked by you") == std::string::npos);

        // A command peerd refuses says why on the status line.
        type("alice", "/add bob");
        CPPUNIT_ASSERT_MESSAGE(_tmux->capture("alice"), waitForLine("alice", {"bob is a contact already"}));
    }

    void testBlockFromConversationTakesRequestOffRoster()
    {
        _network->startPeerd("alice");
        _network->startPeerd("mallory");
        openRoster("roster", "alice");
        auto mallory = _network->attachOnline("mallory");
        mallory->sendLine(requestLine(peerchat::local::ContactRequest{peerchat::local::ContactChange::Add, "alice",
                                                                      "let me in, it's urgent"}));
        CPPUNIT_ASSERT_MESSAGE(_tmux->capture("roster"), waitInSection("roster", "mallory", "Requests"));

        // The conversation shows the request and how to answer it above its
        // lines. mallory is no contact, so alice does not see her online.
        openChat("chat", "alice", "mallory", "not a contact");
        CPPUNIT_ASSERT_MESSAGE(_tmux->capture("chat"),
                               waitForLine("chat", {"mallory asks to be your contact: \"let me in, it's urgent\""}));
        CPPUNIT_ASSERT(waitForLine("chat", {"/accept or /decline"}));
        CPPUNIT_ASSERT(waitForLine("chat", {"mallory is not a contact (presence hidden); lines go through indexd"}));

        type("chat", "/block");
        CPPUNIT_ASSERT_MESSAGE(_tmux->capture("chat"), waitForLine("chat", {"blocked mallory (who is not told)", "/unblock mallory"}));
        CPPUNIT_ASSERT(_tmux->waitForScreen("chat", [](const std::string& s) { return s.find("asks to be") == std::string::npos; }));
        CPPUNIT_ASSERT_MESSAGE(_tmux->capture("roster"), waitInSection("roster", "mallory", "Blocked"));
        CPPUNIT_ASSERT(_tmux->capture("roster").find("Requests") == std::string::npos);
        CPPUNIT_ASSERT(_tmux->capture("roster").find("/accept") == std::string::npos);

        // Nothing is left to accept: peerd says so in the window that asked.
        type("chat", "/accept");
        CPPUNIT_ASSERT_MESSAGE(_tmux->capture("chat"), waitForLine("chat", {"mallory has not asked to be your contact"}));
        type("chat", "/unblock");
        CPPUNIT_ASSERT(waitForLine("chat", {"unblocked mallory"}));
        CPPUNIT_ASSERT(_tmux->waitForScreen("roster", [](const std::string& s) { return s.find("mallory") == std::string::npos; }));
    }

    void testTypingShowsAndExpires()
    {
        _network->startPeerd("alice");
        _network->startPeerd("bob");
        makeContacts("alice", "bob");
        openChat("alice", "alice", "bob");
        openChat("bob", "bob", "alice");

        // A few letters, no Enter: bob's window says alice is typing.
        _tmux->sendText("alice", "hel");
        CPPUNIT_ASSERT_MESSAGE(_tmux->capture("bob") + _network->peerd("bob").log(),
                               waitForLine("bob", {"alice is typing..."}));
        const auto shown = std::chrono::steady_clock::now();
        // Nothing more comes, and it goes by itself, 5 s after the notice.
        CPPUNIT_ASSERT_MESSAGE(_tmux->capture("bob"), _tmux->waitForScreen("bob", [](const std::string& screen) {
            return screen.find("is typing") == std::string::npos;
        }));
        const auto lasted = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - shown);
        CPPUNIT_ASSERT_MESSAGE("gone after " + std::to_string(lasted.count()) + " ms",
                               lasted > std::chrono::seconds(3) && lasted < std::chrono::seconds(7));
        // The letters wait in alice's input; her own window never said she types.
        CPPUNIT_ASSERT(waitForLine("alice", {"> hel"}));
        CPPUNIT_ASSERT(_tmux->capture("alice").find("is typing") == std::string::npos);
    }

    void testStatusSetInRosterShowsInConversation()
    {
        _network->startPeerd("alice");
        _network->startPeerd("bob");
        // Contacts see each other online, and talk peer to peer (issue 13).
        makeContacts("alice", "bob");
        openRoster("roster", "alice");
        openChat("chat", "alice", "bob");
        // peerd says the own state on every connection: online, with no message, to begin with.
        CPPUNIT_ASSERT_MESSAGE(_tmux->capture("chat"), waitForLine("chat", {"alice" + kDot + "online"}));
        CPPUNIT_ASSERT_MESSAGE(_tmux->capture("roster"), waitForLine("roster", {"peerchat alice" + kDot + "online [online]"}));

        type("roster", "/status away back at 3");
        CPPUNIT_ASSERT_MESSAGE(_tmux->capture("chat"), waitForLine("chat", {"alice" + kDot + "away: back at 3"}));
        CPPUNIT_ASSERT(waitForLine("roster", {"peerchat alice" + kDot + "away: back at 3 [online]"}));

        // Too long a message, or no state, is refused before anything is sent, and says why.
        type("roster", "/status busy " + std::string(141, 'x'));
        CPPUNIT_ASSERT_MESSAGE(_tmux->capture("roster"),
                               waitForLine("roster", {"the status message is 141 characters; it holds at most 140"}));
        _tmux->sendKeys("roster", {"Escape"});
        type("chat", "/status sleeping");
        CPPUNIT_ASSERT(waitForLine("chat", {"'sleeping' is no state; say online, away, busy or invisible"}));
        _tmux->sendKeys("chat", {"C-u"});

        // Set in the conversation, it shows in the roster too.
        type("chat", "/status busy in a meeting, then lunch");
        CPPUNIT_ASSERT(waitForLine("roster", {"peerchat alice" + kDot + "busy: in a meeting, then lunch [online]"}));
        CPPUNIT_ASSERT(waitForLine("chat", {"alice" + kDot + "busy: in a meeting, then lunch"}));
    }

private:
    /// Makes asker and asked contacts on the local socket, as their chatuis
    /// would: asker asks, asked accepts, and asker hears of it.
    void makeContacts(const std::string& asker, const std::string& asked)
    {
        using namespace peerchat::local;
        auto askerClient = _network->attachOnline(asker);
        auto askedClient = _network->attachOnline(asked);
        askerClient->sendLine(requestLine(ContactRequest{ContactChange::Add, asked, ""}));
        CPPUNIT_ASSERT_MESSAGE(asked + " got no request from " + asker, waitContact(*askedClient, asker, "asked-me"));
        askedClient->sendLine(requestLine(ContactRequest{ContactChange::Accept, asker, ""}));
        CPPUNIT_ASSERT_MESSAGE(asker + " did not hear " + asked + " accept", waitContact(*askerClient, asked, "contact"));
    }

    /// The next contact event on client that says name stands in relation.
    static LocalClient::Object waitContact(LocalClient& client, const std::string& name, const std::string& relation)
    {
        return client.waitFor([&](const LocalClient::Object& event) {
            if (event->optValue<std::string>("event", "") != "contact") return false;
            const auto contact = event->getObject("contact");
            return contact->getValue<std::string>("name") == name && contact->getValue<std::string>("relation") == relation;
        });
    }

    /// Waits until the roster in window lists user under section.
    bool waitInSection(const std::string& window, const std::string& user, const std::string& section)
    {
        return _tmux->waitForScreen(window, [&](const std::string& screen) { return sectionOf(screen, user) == section; });
    }

    /// The fingerprint of the identity key in keyFile.
    static std::string fingerprintOf(const std::string& keyFile)
    {
        return peerchat::Fingerprint::of(peerchat::KeyFile::loadOrCreate(keyFile).publicKey());
    }

    /// The fingerprint that follows label on a line of window's screen; empty when none does.
    std::string fingerprintAfter(const std::string& window, const std::string& label)
    {
        std::istringstream lines(_tmux->capture(window));
        std::string line;
        std::smatch match;
        while (std::getline(lines, line)) {
            const auto at = line.find(label);
            if (at == std::string::npos) continue;
            const std::string rest = line.substr(at + label.size());
            if (std::regex_search(rest, match, kFingerprint)) return match.str();
        }
        return {};
    }

    std::vector<std::string> chatui(const std::string& user) const
    {
        return {DaemonProcess::binary("chatui"), "--socket", _network->socketOf(user)};
    }

    /// Opens user's conversation with peer in a new window and waits until
    /// its header shows the peer's presence as shown: online, or "not a
    /// contact" for a peer whose presence indexd does not tell.
    void openChat(const std::string& window, const std::string& user, const std::string& peer,
                  const std::string& shown = "online")
    {
        auto command = chatui(user);
        command.push_back(peer);
        _tmux->newWindow(window, command);
        CPPUNIT_ASSERT_MESSAGE(window + " did not show " + peer + " (" + shown + "):\n" + _tmux->capture(window),
                               waitForLine(window, {talking(user) + peer + " (" + shown + ")"}));
    }

    void openRoster(const std::string& window, const std::string& user)
    {
        _tmux->newWindow(window, chatui(user));
        CPPUNIT_ASSERT_MESSAGE(window + " did not show the roster:\n" + _tmux->capture(window),
                               waitForLine(window, {"peerchat " + user, "[online]"}));
    }

    void type(const std::string& window, const std::string& text)
    {
        _tmux->sendText(window, text);
        _tmux->sendKeys(window, {"Enter"});
    }

    /// Waits until one line of the window's screen holds every one of parts.
    bool waitForLine(const std::string& window, std::initializer_list<std::string> parts)
    {
        const std::vector<std::string> wanted(parts);
        return _tmux->waitForScreen(window, [&](const std::string& screen) {
            return hasLine(screen, [&](const std::string& line) {
                for (const auto& part : wanted)
                    if (line.find(part) == std::string::npos) return false;
                return true;
            });
        });
    }

    /// Opens alice's conversation with bob in window "alice", attached to
    /// peerd, and plays peerd's part up to the history: bob online or not,
    /// with the trust of his key, and lines.
    void attachScripted(ScriptedPeerd& peerd, const std::string& socketPath, bool bobOnline,
                        const std::vector<peerchat::local::ChatLine>& lines,
                        peerchat::local::Trust bobTrust = peerchat::local::Trust::Pinned)
    {
        using namespace peerchat::local;
        _tmux->newWindow("alice", {DaemonProcess::binary("chatui"), "--socket", socketPath, "bob"});
        peerd.accept();
        peerd.send(WelcomeEvent{kProtocolVersion, "alice", LinkState::Online, "127.0.0.1:4000", kAliceFingerprint});
        peerd.waitRequest<RosterRequest>();
        RosterEvent roster;
        if (bobOnline) roster.users.push_back(UserInfo{"bob", "127.0.0.1:4001", "peerchat", bobTrust});
        // A contact: only a contact's presence is ever known (issue 13).
        roster.contacts.push_back(ContactInfo{"bob", Relation::Contact});
        peerd.send(roster);
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), peerd.waitRequest<SubscribeRequest>().conversation.name());
        peerd.send(HistoryEvent{ConversationId::direct("bob"), lines});
        CPPUNIT_ASSERT_MESSAGE(_tmux->capture("alice"),
                               waitForLine("alice", {"alice" + kArrow + "bob " + (bobOnline ? "(online)" : "(offline)")}));
    }

    /// Waits until a line of the window shows mark (one cell) between a time
    /// and rest: "12:00:01 ✓ alice: hi".
    bool waitForMarkedLine(const std::string& window, const std::string& mark, const std::string& rest)
    {
        return waitForMarkedLine(window, std::vector<std::string>{mark}, rest);
    }

    /// The same for any one of marks.
    bool waitForMarkedLine(const std::string& window, const std::vector<std::string>& marks, const std::string& rest)
    {
        return _tmux->waitForScreen(window, [&](const std::string& screen) {
            return hasLine(screen, [&](const std::string& line) {
                const bool timed = std::regex_match(line.substr(0, 8), std::regex("[0-2][0-9]:[0-5][0-9]:[0-5][0-9]"));
                return timed && std::any_of(marks.begin(), marks.end(), [&](const std::string& mark) {
                           return line.find(" " + mark + " " + rest) == 8;
                       });
            });
        });
    }

    /// The "alice" window's screen with its colours and attributes as escape sequences.
    std::string styledScreen() { return _tmux->tmux({"capture-pane", "-p", "-e", "-t", "test:alice"}); }

    /// True when the "alice" window shows text in a style of its own, with after following in another.
    bool hasHighlighted(const std::string& text, const std::string& after)
    {
        const std::string style = "(\x1b\\[[0-9;]*m)+";
        return std::regex_search(styledScreen(), std::regex(style + text + style + after));
    }

    std::unique_ptr<ChatNetwork> _network;
    std::unique_ptr<TmuxServer> _tmux;
};

CPPUNIT_TEST_SUITE_REGISTRATION(ChatuiTest);
