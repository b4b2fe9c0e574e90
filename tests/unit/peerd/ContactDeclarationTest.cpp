#include "ContactDeclaration.h"

#include "PeerStore.h"
#include "KeyPins.h"
#include "ManualTimers.h"
#include "SessionCipher.h"
#include "SignedStatement.h"
#include "SilentListener.h"

#include <cppunit/extensions/HelperMacros.h>

#include <memory>
#include <string>
#include <vector>

using namespace peerchat;
using namespace std::chrono_literals;
using test::SilentListener;
using test::ManualTimers;

namespace {

struct RecordingSink : DatagramSink
{
    void sendTo(std::string_view bytes, const Endpoint&) override { sent.emplace_back(bytes); }
    std::vector<std::string> sent;
};

} // namespace

/// The contact list and the own state it carries, as indexd reads them: the
/// session with indexd is a real one, opened here from indexd's side.
class ContactDeclarationTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(ContactDeclarationTest);
    CPPUNIT_TEST(testShortListIsOneSignedPart);
    CPPUNIT_TEST(testLongestListSplitsIntoPartsThatFit);
    CPPUNIT_TEST(testOnlineDeclaresTheOwnStateAndMessage);
    CPPUNIT_TEST(testUnheldListGoesAgainEveryRetry);
    CPPUNIT_TEST(testStatusChangeMakesANewVersion);
    CPPUNIT_TEST(testResendSendsTheSameVersionOnce);
    CPPUNIT_TEST(testNothingGoesAfterStop);
    CPPUNIT_TEST_SUITE_END();

public:
    void setUp() override
    {
        _timers = std::make_unique<ManualTimers>();
        _sink = RecordingSink();
        _store = std::make_unique<PeerStore>(10);
        _pins = std::make_unique<KeyPins>(_store->keys, _store->outbox);
        _sessions = std::make_unique<PeerSessions>(_alice);
        KxKeyPair aliceKx = KxKeyPair::generate();
        _fromIndex = SessionCipher::between(_indexKx, _index, _alice.publicKey(), aliceKx.publicKey());
        CPPUNIT_ASSERT(_sessions->renew(std::move(aliceKx), _index.publicKey(), _indexKx.publicKey()));
        _drops = std::make_unique<DropLog>(*_timers, 10s);
        _session = std::make_unique<IndexSession>(
            *_timers, _sink, *_sessions, _alice, *_pins, _listener, *_drops,
            IndexSession::Settings{"alice", Endpoint::parse("127.0.0.1:9400").value(), std::nullopt, 2000ms, 10000ms,
                                   {}},
            IndexSession::Hooks{[](const LoginState::Welcomed&) {}, [] { return false; }, [] {}, [] {},
                                [] { return std::uint64_t(0); }, [](const std::string&) {}});
        _contacts = std::make_unique<Contacts>(_store->contacts, _store->settings, "alice");
        _status = std::make_unique<OwnStatus>(_store->settings, std::chrono::minutes(0), _timers->now());
        _declaration = std::make_unique<ContactDeclaration>(*_timers, *_contacts, *_status, *_session, _alice,
                                                            ContactDeclaration::Settings{"alice", 2000ms});
    }

    void tearDown() override
    {
        _declaration.reset();
        _session.reset();
        _drops.reset();
    }

    void testShortListIsOneSignedPart()
    {
        const SigningKey key = SigningKey::generate();
        const ContactDeclaration::Shown away{PresenceState::Away, "back at 3"};
        const auto parts = ContactDeclaration::parts("alice", 9, away, {"bob", "carol"}, key);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), parts.size());
        CPPUNIT_ASSERT(parts[0].part == 1 && parts[0].parts == 1 && parts[0].version == 9);
        CPPUNIT_ASSERT(parts[0].names == (std::vector<std::string>{"bob", "carol"}));
        CPPUNIT_ASSERT(parts[0].state == PresenceState::Away);
        CPPUNIT_ASSERT_EQUAL(std::string("back at 3"), parts[0].status);
        CPPUNIT_ASSERT(SigningKey::verify(key.publicKey(), SignedStatement::contacts(parts[0]), parts[0].sig));
        // An empty list is one part too: indexd must hear that there is nobody.
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), ContactDeclaration::parts("alice", 10, {}, {}, key).size());
    }

    void testLongestListSplitsIntoPartsThatFit()
    {
        const SigningKey key = SigningKey::generate();
        std::vector<std::string> names;
        for (std::size_t i = 0; i < Protocol::kMaxContacts; ++i) {
            std::string name = "user" + std::to_string(i);
            names.push_back(name + std::string(32 - name.size(), 'x'));
        }
        // The longest message of the widest characters: every part repeats it.
        std::string longest;
        for (std::size_t i = 0; i < Protocol::kMaxStatusCharacters; ++i) longest += "\xF0\x9F\x98\x80";
        const auto parts = ContactDeclaration::parts("alice", 1, {PresenceState::Busy, longest}, names, key);
        CPPUNIT_ASSERT(parts.size() > 1 && parts.size() <= Protocol::kMaxDeclarationParts);
        std::vector<std::string> all;
        for (std::size_t i = 0; i < parts.size(); ++i) {
            CPPUNIT_ASSERT_EQUAL(std::uint32_t(i + 1), parts[i].part);
            CPPUNIT_ASSERT_EQUAL(static_cast<std::uint32_t>(parts.size()), parts[i].parts);
            // Each part decodes as it was made: within the limit of NAMES, and sealed within a datagram.
            const auto back = Protocol::decode(Protocol::encode(parts[i]));
            CPPUNIT_ASSERT_MESSAGE(back.ok() ? "" : back.error(), back.ok());
            const auto& decoded = std::get<ContactsDeclaration>(*back);
            CPPUNIT_ASSERT(decoded.state == PresenceState::Busy && decoded.status == longest);
            CPPUNIT_ASSERT(SigningKey::verify(key.publicKey(), SignedStatement::contacts(parts[i]), parts[i].sig));
            all.insert(all.end(), parts[i].names.begin(), parts[i].names.end());
        }
        CPPUNIT_ASSERT(all == names);
    }

    void testOnlineDeclaresTheOwnStateAndMessage()
    {
        CPPUNIT_ASSERT(_status->set(PresenceState::Busy, "in a meeting", _timers->now()).empty());
        _declaration->online();
        const std::vector<ContactsDeclaration> sent = declarations();
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), sent.size());
        CPPUNIT_ASSERT_EQUAL(_declaration->version(), sent[0].version);
        CPPUNIT_ASSERT(sent[0].state == PresenceState::Busy);
        CPPUNIT_ASSERT_EQUAL(std::string("in a meeting"), sent[0].status);
        CPPUNIT_ASSERT(SigningKey::verify(_alice.publicKey(), SignedStatement::contacts(sent[0]), sent[0].sig));
    }

    void testUnheldListGoesAgainEveryRetry()
    {
        _declaration->online();
        _timers->advance(1999ms);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), declarations().size());
        _timers->advance(1ms);
        const auto sent = declarations();
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), sent.size());
        CPPUNIT_ASSERT_EQUAL(sent[0].version, sent[1].version);
        _declaration->declared(Declared{sent[0].version});
        CPPUNIT_ASSERT(_declaration->held());
        _timers->advance(10s);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), declarations().size());
    }

    void testStatusChangeMakesANewVersion()
    {
        _declaration->online();
        const std::uint64_t first = _declaration->version();
        _declaration->declared(Declared{first});
        // Nothing changed: no new list.
        _declaration->changed();
        CPPUNIT_ASSERT_EQUAL(first, _declaration->version());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), declarations().size());
        // The state, then the message alone, each make a new version that shows it.
        CPPUNIT_ASSERT(_status->set(PresenceState::Away, "", _timers->now()).empty());
        _declaration->changed();
        CPPUNIT_ASSERT(_declaration->version() > first && !_declaration->held());
        CPPUNIT_ASSERT(declarations().back().state == PresenceState::Away);
        const std::uint64_t second = _declaration->version();
        CPPUNIT_ASSERT(_status->set(PresenceState::Away, "back at 3", _timers->now()).empty());
        _declaration->changed();
        CPPUNIT_ASSERT(_declaration->version() > second);
        CPPUNIT_ASSERT_EQUAL(std::string("back at 3"), declarations().back().status);
        // An answer for an older version does not count for the current one.
        _declaration->declared(Declared{second});
        CPPUNIT_ASSERT(!_declaration->held());
    }

    void testResendSendsTheSameVersionOnce()
    {
        _declaration->resend();
        CPPUNIT_ASSERT(declarations().empty());
        _declaration->online();
        _declaration->declared(Declared{_declaration->version()});
        _declaration->resend();
        const auto sent = declarations();
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), sent.size());
        CPPUNIT_ASSERT_EQUAL(sent[0].version, sent[1].version);
        CPPUNIT_ASSERT(_declaration->held());
        _timers->advance(10s);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), declarations().size());
    }

    void testNothingGoesAfterStop()
    {
        _declaration->online();
        _declaration->stop();
        _declaration->resend();
        _status->set(PresenceState::Busy, "", _timers->now());
        _declaration->changed();
        _timers->advance(10s);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), declarations().size());
    }

private:
    /// Every contact list part sent so far, as indexd opens them.
    std::vector<ContactsDeclaration> declarations()
    {
        for (; _read < _sink.sent.size(); ++_read) {
            const Parsed<Inbound> inbound = Protocol::decodeDatagram(_sink.sent[_read]);
            CPPUNIT_ASSERT(inbound && std::holds_alternative<Seal>(inbound->message));
            const Parsed<std::string> opened = _fromIndex->open(std::get<Seal>(inbound->message));
            CPPUNIT_ASSERT_MESSAGE(opened ? "" : opened.error(), opened.ok());
            const Parsed<Message> message = Protocol::decode(*opened);
            CPPUNIT_ASSERT(message && std::holds_alternative<ContactsDeclaration>(*message));
            _declared.push_back(std::get<ContactsDeclaration>(*message));
        }
        return _declared;
    }

    const SigningKey _alice = SigningKey::generate();
    const SigningKey _index = SigningKey::generate();
    const KxKeyPair _indexKx = KxKeyPair::generate();
    std::optional<SessionCipher> _fromIndex;
    std::unique_ptr<ManualTimers> _timers;
    RecordingSink _sink;
    SilentListener _listener;
    std::unique_ptr<PeerStore> _store;
    std::unique_ptr<KeyPins> _pins;
    std::unique_ptr<PeerSessions> _sessions;
    std::unique_ptr<DropLog> _drops;
    std::unique_ptr<IndexSession> _session;
    std::unique_ptr<Contacts> _contacts;
    std::unique_ptr<OwnStatus> _status;
    std::unique_ptr<ContactDeclaration> _declaration;
    std::size_t _read = 0;
    std::vector<ContactsDeclaration> _declared;
};

CPPUNIT_TEST_SUITE_REGISTRATION(ContactDeclarationTest);
