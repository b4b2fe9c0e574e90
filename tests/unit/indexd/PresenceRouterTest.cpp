#include "ContactRoutes.h"
#include "Directory.h"
#include "IndexIdentity.h"
#include "PresenceRouter.h"
#include "SealedSender.h"

#include "RecordingSink.h"
#include "TestPeer.h"

#include <cppunit/extensions/HelperMacros.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

using peerchat::ContactRoutes;
using peerchat::ContactsDeclaration;
using peerchat::Dialect;
using peerchat::Directory;
using peerchat::Gone;
using peerchat::Here;
using peerchat::IndexIdentity;
using peerchat::Message;
using peerchat::PresenceRouter;
using peerchat::PresenceState;
using peerchat::Protocol;
using peerchat::SealedSender;
using peerchat::SigningKey;
using peerchat::Snapshot;
using peerchat::test::endpoint;
using peerchat::test::RecordingSink;
using peerchat::test::TestPeer;

namespace {

using Names = std::vector<std::string>;

} // namespace

/// The router on a real Directory, ContactRoutes and SealedSender: what
/// each user is sent, opened with its own session.
class PresenceRouterTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(PresenceRouterTest);
    CPPUNIT_TEST(testMutualContactsSeeEachOther);
    CPPUNIT_TEST(testOneSidedListSeesNothingNotEvenALogout);
    CPPUNIT_TEST(testSnapshotListsWhoIsSeenNumberedAfterIt);
    CPPUNIT_TEST(testChangesForOneRecipientGoInOneDatagram);
    CPPUNIT_TEST(testLoginAndLogoutWithinATickAreOneGone);
    CPPUNIT_TEST(testInvisibleIsGoneToContactsAndStillSeesThem);
    CPPUNIT_TEST(testStateAndStatusReachContacts);
    CPPUNIT_TEST(testRemovedContactIsToldGone);
    CPPUNIT_TEST(testLegacyUsersAreSeenByEveryoneInLegacyMode);
    CPPUNIT_TEST(testNumbersRestartWithANewSession);
    CPPUNIT_TEST(testSnapshotGoesAtOnceAndHoldsWhatWasNotedBeforeIt);
    CPPUNIT_TEST_SUITE_END();

public:
    PresenceRouterTest() : _identity(SigningKey::generate()) {}

    void setUp() override { makeRouter(false); }

    void testMutualContactsSeeEachOther()
    {
        logIn("alice", "127.0.0.1:5001");
        logIn("bob", "127.0.0.1:5002");
        declare("alice", 1, {"bob"});
        _router->flush();
        declare("bob", 1, {"alice"});
        _router->flush();
        // bob's list made them mutual: alice hears bob is here; bob's snapshot has alice.
        const auto toAlice = received("alice");
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), toAlice.size());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), std::get<Snapshot>(toAlice[0]).count);
        const Here& bob = std::get<Here>(toAlice.back());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(2), bob.seq);
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), bob.name);
        CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1:5002"), bob.endpoint.toString());
        CPPUNIT_ASSERT(bob.keys && bob.keys->identity == peer("bob").key().publicKey());
        const auto toBob = received("bob");
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), toBob.size());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), std::get<Snapshot>(toBob[0]).count);
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), std::get<Here>(toBob[1]).name);
        CPPUNIT_ASSERT(_router->sees("alice", *_directory.find("bob")));
        CPPUNIT_ASSERT(_router->sees("bob", *_directory.find("alice")));
    }

    void testSnapshotGoesAtOnceAndHoldsWhatWasNotedBeforeIt()
    {
        logIn("alice", "127.0.0.1:5001");
        logIn("bob", "127.0.0.1:5002");
        logIn("carol", "127.0.0.1:5003");
        declare("alice", 1, {"bob", "carol"});
        declare("bob", 1, {"alice"});
        _router->flush();
        const std::size_t before = received("alice").size();
        // carol's list makes her seen by alice (a pair noted for alice);
        // alice then asks for presence anew: the snapshot, sent before any
        // flush, already shows carol, and the flush does not tell it again.
        declare("carol", 1, {"alice"});
        declare("alice", 1, {"bob", "carol"});
        CPPUNIT_ASSERT_EQUAL(before + 3, received("alice").size());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(2), std::get<Snapshot>(received("alice")[before]).count);
        // bob going after the snapshot is told at the flush, numbered on.
        logOut("bob");
        _router->flush();
        const auto toAlice = received("alice");
        CPPUNIT_ASSERT_EQUAL(before + 4, toAlice.size());
        const Gone& gone = std::get<Gone>(toAlice.back());
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), gone.name);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(6), gone.seq);
    }

    void testOneSidedListSeesNothingNotEvenALogout()
    {
        logIn("alice", "127.0.0.1:5001");
        logIn("mallory", "127.0.0.1:5009");
        declare("alice", 1, {});
        declare("mallory", 1, {"alice"});
        _router->flush();
        CPPUNIT_ASSERT(!_router->sees("mallory", *_directory.find("alice")));
        const auto toMallory = received("mallory");
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), toMallory.size());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), std::get<Snapshot>(toMallory[0]).count);
        logOut("alice");
        _router->flush();
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), received("mallory").size());
    }

    void testSnapshotListsWhoIsSeenNumberedAfterIt()
    {
        for (const char* name : {"bob", "carol", "dave"}) {
            logIn(name, std::string("127.0.0.1:60") + std::to_string(10 + _peers.size()));
            declare(name, 1, {"alice"});
        }
        logIn("erin", "127.0.0.1:6099");
        declare("erin", 1, {});  // alice lists erin, erin does not list alice
        _router->flush();
        logIn("alice", "127.0.0.1:5001");
        declare("alice", 1, {"bob", "carol", "dave", "erin"});
        _router->flush();
        const auto toAlice = received("alice");
        CPPUNIT_ASSERT_EQUAL(std::size_t(4), toAlice.size());
        const Snapshot& snapshot = std::get<Snapshot>(toAlice[0]);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), snapshot.seq);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(3), snapshot.count);
        Names seen;
        for (std::size_t i = 1; i < toAlice.size(); ++i) {
            const Here& here = std::get<Here>(toAlice[i]);
            CPPUNIT_ASSERT_EQUAL(std::uint64_t(1 + i), here.seq);
            seen.push_back(here.name);
        }
        std::sort(seen.begin(), seen.end());
        CPPUNIT_ASSERT(seen == (Names{"bob", "carol", "dave"}));
        // Declared again, the same version: a snapshot again, numbered on.
        declare("alice", 1, {"bob", "carol", "dave", "erin"});
        _router->flush();
        const auto again = received("alice");
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(5), std::get<Snapshot>(again.at(4)).seq);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(8), _directory.find("alice")->presenceSeq);
    }

    void testChangesForOneRecipientGoInOneDatagram()
    {
        logIn("alice", "127.0.0.1:5001");
        declare("alice", 1, {"bob", "carol", "dave"});
        _router->flush();
        const std::size_t before = datagrams("alice").size();
        const int wakes = _wakes;
        for (const char* name : {"bob", "carol", "dave"}) {
            logIn(name, std::string("127.0.0.1:60") + std::to_string(10 + _peers.size()));
            declare(name, 1, {"alice"});
        }
        CPPUNIT_ASSERT_EQUAL(1, _wakes - wakes);
        _router->flush();
        CPPUNIT_ASSERT_EQUAL(before + 1, datagrams("alice").size());
        const auto messages = datagrams("alice").back();
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), messages.size());
        for (std::size_t i = 0; i < messages.size(); ++i)
            CPPUNIT_ASSERT_EQUAL(std::uint64_t(2 + i), std::get<Here>(messages[i]).seq);
    }

    void testLoginAndLogoutWithinATickAreOneGone()
    {
        logIn("alice", "127.0.0.1:5001");
        logIn("bob", "127.0.0.1:5002");
        declare("alice", 1, {"bob"});
        declare("bob", 1, {"alice"});
        _router->flush();
        const std::size_t before = received("alice").size();
        logOut("bob");
        logIn("bob", "127.0.0.1:5003");
        declare("bob", 1, {"alice"});
        logOut("bob");
        _router->flush();
        const auto toAlice = received("alice");
        CPPUNIT_ASSERT_EQUAL(before + 1, toAlice.size());
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), std::get<Gone>(toAlice.back()).name);
    }

    void testInvisibleIsGoneToContactsAndStillSeesThem()
    {
        logIn("alice", "127.0.0.1:5001");
        logIn("bob", "127.0.0.1:5002");
        declare("alice", 1, {"bob"});
        declare("bob", 1, {"alice"});
        _router->flush();
        declare("bob", 2, {"alice"}, PresenceState::Invisible);
        _router->flush();
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), std::get<Gone>(received("alice").back()).name);
        CPPUNIT_ASSERT(!_router->sees("alice", *_directory.find("bob")));
        CPPUNIT_ASSERT(_router->sees("bob", *_directory.find("alice")));
        const auto toBob = received("bob");
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), std::get<Here>(toBob.back()).name);
        // alice's own snapshot does not list bob; bob's lists alice.
        declare("alice", 1, {"bob"});
        _router->flush();
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), std::get<Snapshot>(received("alice").back()).count);
        // Invisible bob leaving tells alice nothing more.
        const std::size_t before = received("alice").size();
        logOut("bob");
        _router->flush();
        CPPUNIT_ASSERT_EQUAL(before, received("alice").size());
    }

    void testStateAndStatusReachContacts()
    {
        logIn("alice", "127.0.0.1:5001");
        logIn("bob", "127.0.0.1:5002");
        declare("alice", 1, {"bob"});
        declare("bob", 1, {"alice"});
        _router->flush();
        const std::size_t toBobBefore = received("bob").size();
        declare("bob", 2, {"alice"}, PresenceState::Away, "back at 3, 或者 4");
        _router->flush();
        // Nothing changed in what bob sees: his own state change sends him nothing.
        CPPUNIT_ASSERT_EQUAL(toBobBefore, received("bob").size());
        const Here bob = std::get<Here>(received("alice").back());
        CPPUNIT_ASSERT(bob.state == PresenceState::Away);
        CPPUNIT_ASSERT_EQUAL(std::string("back at 3, 或者 4"), bob.status);
    }

    void testRemovedContactIsToldGone()
    {
        logIn("alice", "127.0.0.1:5001");
        logIn("bob", "127.0.0.1:5002");
        declare("alice", 1, {"bob"});
        declare("bob", 1, {"alice"});
        _router->flush();
        declare("bob", 2, {});
        _router->flush();
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), std::get<Gone>(received("alice").back()).name);
        // bob is told the same of alice, as a delta: a new version brings no snapshot.
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), std::get<Gone>(received("bob").back()).name);
    }

    void testLegacyUsersAreSeenByEveryoneInLegacyMode()
    {
        makeRouter(true);
        logIn("alice", "127.0.0.1:5001");
        declare("alice", 1, {});
        _directory.login("seedy", endpoint("127.0.0.1:7001"), Dialect::Seed, endpoint("127.0.0.1:7001").host(), {});
        _router->arrived(*_directory.find("seedy"));
        _router->flush();
        const Here seedy = std::get<Here>(received("alice").back());
        CPPUNIT_ASSERT_EQUAL(std::string("seedy"), seedy.name);
        CPPUNIT_ASSERT_EQUAL(std::string("seed"), seedy.dialect);
        CPPUNIT_ASSERT(!seedy.keys);
        // A new snapshot lists it, though alice never declared it.
        declare("alice", 1, {});
        _router->flush();
        const auto toAlice = received("alice");
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), std::get<Snapshot>(toAlice[toAlice.size() - 2]).count);
        // Nothing is sent to the seed user: it hears through the Broadcaster.
        CPPUNIT_ASSERT(_sink.to(endpoint("127.0.0.1:7001")).empty());
    }

    void testNumbersRestartWithANewSession()
    {
        logIn("alice", "127.0.0.1:5001");
        declare("alice", 1, {});
        _router->flush();
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), _directory.find("alice")->presenceSeq);
        logOut("alice");
        logIn("alice", "127.0.0.1:5001");
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), _directory.find("alice")->presenceSeq);
        declare("alice", 1, {});
        _router->flush();
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), std::get<Snapshot>(received("alice").back()).seq);
    }

private:
    void makeRouter(bool legacy)
    {
        _router = std::make_unique<PresenceRouter>(_directory, _routes, _sealed, legacy, [this] { ++_wakes; });
    }

    TestPeer& peer(const std::string& name) { return _peers.at(name); }

    void logIn(const std::string& name, const std::string& at)
    {
        _peers.erase(name);
        TestPeer& peer = _peers.emplace(name, TestPeer(name, at)).first->second;
        _directory.login(name, peer.endpoint(), Dialect::Peerchat, peer.endpoint().host(), {},
                         peer.sessionAt(_identity));
        auto session = peerchat::SessionCipher::between(peer.kx(), peer.key(), _identity.publicKey(),
                                                        _identity.kx().publicKey());
        _inboxes.erase(name);
        _inboxes.emplace(name, Inbox{std::move(*session), _sink.to(peer.endpoint()).size()});
        _router->arrived(*_directory.find(name));
    }

    void logOut(const std::string& name)
    {
        const auto outcome = _directory.logout(name, peer(name).endpoint(), peer(name).endpoint());
        _router->left(*outcome.user);
    }

    void declare(const std::string& name, std::uint64_t version, const Names& contacts,
                 PresenceState state = PresenceState::Online, const std::string& status = {})
    {
        const ContactsDeclaration part{name, version, 1, 1, state, status, contacts, {}};
        CPPUNIT_ASSERT(_router->declare(part) == ContactRoutes::Taken::Complete);
    }

    /// The messages of each datagram sent to name in its current session, in
    /// order; each datagram is opened once (the session takes no replay).
    const std::vector<std::vector<Message>>& datagrams(const std::string& name)
    {
        Inbox& inbox = _inboxes.at(name);
        const auto sent = _sink.to(peer(name).endpoint());
        for (; inbox.consumed < sent.size(); ++inbox.consumed) {
            const auto message = Protocol::decode(sent[inbox.consumed]);
            CPPUNIT_ASSERT(message && std::holds_alternative<peerchat::Seal>(*message));
            auto plaintext = inbox.session.open(std::get<peerchat::Seal>(*message));
            CPPUNIT_ASSERT(plaintext);
            std::vector<Message> messages;
            for (auto& inner : Protocol::decodeBundle(*plaintext)) {
                CPPUNIT_ASSERT(inner);
                messages.push_back(*inner);
            }
            inbox.datagrams.push_back(std::move(messages));
        }
        return inbox.datagrams;
    }

    /// Every message sent to name in its current session, in order.
    std::vector<Message> received(const std::string& name)
    {
        std::vector<Message> messages;
        for (const auto& datagram : datagrams(name)) messages.insert(messages.end(), datagram.begin(), datagram.end());
        return messages;
    }

    /// What a peer's side of its session has opened.
    struct Inbox
    {
        peerchat::SessionCipher session;
        std::size_t consumed = 0;
        std::vector<std::vector<Message>> datagrams{};
    };

    IndexIdentity _identity;
    Directory _directory;
    ContactRoutes _routes;
    RecordingSink _sink;
    SealedSender _sealed{_directory, _sink};
    std::unique_ptr<PresenceRouter> _router;
    std::map<std::string, TestPeer> _peers;
    std::map<std::string, Inbox> _inboxes;
    int _wakes = 0;
};

CPPUNIT_TEST_SUITE_REGISTRATION(PresenceRouterTest);
