#include "PeerStore.h"
#include "PeerTestData.h"
#include "StoreFaults.h"
#include "Protocol.h"
#include "RedoLog.h"
#include "SigningKey.h"
#include "StoreChange.h"
#include "TempDir.h"

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>
#include <Poco/Exception.h>

#include <cppunit/extensions/HelperMacros.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using peerchat::ConversationId;
using peerchat::ContactKind;
using peerchat::ContactRecord;
using peerchat::DiskFullException;
using peerchat::KeyPin;
using peerchat::PeerStore;
using peerchat::Relation;
using peerchat::StoreDatabase;
using peerchat::local::LineState;
using peerchat::test::key;
using peerchat::test::TempDir;
using namespace Poco::Data::Keywords;

namespace {

const ConversationId kBob = ConversationId::direct("bob");

// Trusts keys as name's new key, as KeyPins::trust does.
void trustKey(PeerStore& store, const std::string& name, const KeyPin& keys)
{
    store.outbox.newStream(name, {peerchat::KeyPinStore::pinChange(name, keys)}, [] { return std::string("trust"); });
}

// A session on a database file the store is not holding, to look at or tamper with it.
Poco::Data::Session rawSession(const std::string& path)
{
    Poco::Data::SQLite::Connector::registerConnector();
    return Poco::Data::Session(Poco::Data::SQLite::Connector::KEY, path);
}

// How many rows of table (and what follows it: a WHERE) the database at path holds.
int rowCount(const std::string& path, const std::string& table)
{
    int count = -1;
    rawSession(path) << "SELECT count(*) FROM " + table, into(count), now;
    return count;
}

int userVersion(const std::string& path)
{
    int version = -1;
    rawSession(path) << "PRAGMA user_version", into(version), now;
    return version;
}

mode_t modeOf(const std::string& path)
{
    struct stat status {};
    CPPUNIT_ASSERT_EQUAL_MESSAGE(path, 0, ::stat(path.c_str(), &status));
    return status.st_mode & 0777;
}

// The message of the Poco::IOException that opening path throws; fails when none is thrown.
std::string openFailure(const std::string& path)
{
    try {
        PeerStore store(path, 100);
    } catch (const Poco::IOException& e) {
        return e.message();
    }
    CPPUNIT_FAIL("opening " + path + " did not fail");
    return {};
}

bool contains(const std::string& text, const std::string& part)
{
    return text.find(part) != std::string::npos;
}

// The files this process holds open whose names SQLite gives its temporary
// files ("etilqs_" in the temporary directory, unlinked once open).
std::vector<std::string> sqliteTemporaryFiles()
{
    std::vector<std::string> found;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
        std::error_code error;
        const std::string target = std::filesystem::read_symlink(entry.path(), error).string();
        if (!error && contains(target, "etilqs_")) found.push_back(target);
    }
    return found;
}


// What a peerd before schema 7 left for peer in a database at path: its
// conversation up to lastId, its stream up to lastSeq and rows (SQL values)
// in its outbox table.
void leaveOldOutbox(const std::string& path, const std::string& peer, int lastId, const std::string& stream,
                    int lastSeq, const std::string& rows)
{
    Poco::Data::Session session = rawSession(path);
    session << "INSERT INTO conversation VALUES ('" + peer + "', " + std::to_string(lastId) + ", 0)", now;
    session << "INSERT INTO outgoing_stream VALUES ('" + peer + "', '" + stream + "', " + std::to_string(lastSeq) + ")",
        now;
    session << "INSERT INTO outbox VALUES " + rows, now;
}

// A database at path with a trigger that refuses every change to table.
void refuseChangesTo(const std::string& path, const std::string& table, const std::string& change)
{
    { PeerStore store(path, 100); }
    rawSession(path) << "CREATE TRIGGER refuse_" + change + " BEFORE " + change + " ON " + table +
                            " BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
        now;
}

} // namespace

class PeerStoreTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(PeerStoreTest);
    CPPUNIT_TEST(testAddNumbersLinesFromOnePerPeer);
    CPPUNIT_TEST(testEnqueueNumbersOneStreamPerPeer);
    CPPUNIT_TEST(testAcknowledgeDeliversUpToSeq);
    CPPUNIT_TEST(testAcknowledgeLeavesLinesInBetweenAsTheyWere);
    CPPUNIT_TEST(testTrustKeyPinsAndRenumbersWaitingLinesAndSurvivesReopen);
    CPPUNIT_TEST(testDeliverAdvancesIncomingStream);
    CPPUNIT_TEST(testGroupConversationIsKeptApartAndSurvivesReopen);
    CPPUNIT_TEST(testGroupsOutliveTheStoreAndSchema8Migrates);
    CPPUNIT_TEST(testOpenRefusesDamagedGroup);
    CPPUNIT_TEST(testAddKeepsBothDirectionsInOrder);
    CPPUNIT_TEST(testHistoryLimitDropsOldestAndKeepsCounting);
    CPPUNIT_TEST(testHistoryOfStrangerIsEmpty);
    CPPUNIT_TEST(testIncomingRaisesUnreadOutgoingDoesNot);
    CPPUNIT_TEST(testMarkReadZeroesOnePeer);
    CPPUNIT_TEST(testUnreadCountsListOnlyNonZero);
    CPPUNIT_TEST(testSearchMatchesTextLiterally);
    CPPUNIT_TEST(testSearchReturnsNewestMatchesOldestFirst);
    CPPUNIT_TEST(testReopenFindsEverything);
    CPPUNIT_TEST(testReopenContinuesIdsAndStreams);
    CPPUNIT_TEST(testReopenAppliesSmallerHistoryLimit);
    CPPUNIT_TEST(testOpenMigratesEmptyFileToCurrentVersion);
    CPPUNIT_TEST(testOpenCreatesPrivateDirectoryAndFile);
    CPPUNIT_TEST(testOpenRefusesNewerSchemaVersion);
    CPPUNIT_TEST(testOpenRefusesDatabaseInUse);
    CPPUNIT_TEST(testOpenRefusesFileThatIsNoDatabase);
    CPPUNIT_TEST(testDeliverReachesDatabaseWholeOrNotAtAll);
    CPPUNIT_TEST(testEnqueueReachesDatabaseWholeOrNotAtAll);
    CPPUNIT_TEST(testIncomingKeepsVerifiedMark);
    CPPUNIT_TEST(testOpenMigratesVersion1MarkingOldLinesUnverified);
    CPPUNIT_TEST(testKeyPinsSurviveReopen);
    CPPUNIT_TEST(testKeyPinsOfSchema3KeptOnMigration);
    CPPUNIT_TEST(testOpenRefusesDamagedKey);
    CPPUNIT_TEST(testContactsAndSettingsOutliveTheStore);
    CPPUNIT_TEST(testPeersTalkedWithBecomeContactsOnMigration);
    CPPUNIT_TEST(testPassedLineMovesTheStreamAndStoresNothing);
    CPPUNIT_TEST(testFullDiskRefusesChangesUntilThereIsRoom);
    CPPUNIT_TEST(testFullDiskRefusesDeliveryAndKeepsPosition);
    CPPUNIT_TEST(testDatabaseRefusalStopsChangesAndKeepsThemForTheNextOpen);
    CPPUNIT_TEST(testChangesOfACrashedStoreAreKeptOnceEach);
    CPPUNIT_TEST(testLinesWrittenInGroupsComeBackInOrder);
    CPPUNIT_TEST(testBigStatementsKeepNoFileBesideTheDatabase);
    CPPUNIT_TEST(testKeyFindsLineSentWithIt);
    CPPUNIT_TEST(testKeyIsUniquePerConversation);
    CPPUNIT_TEST(testKeyForgottenWithItsLine);
    CPPUNIT_TEST(testQueuedLinesOutliveTheHistoryLimit);
    CPPUNIT_TEST(testOutboxRowsOfAnOldPeerdBecomeQueuedLines);
    CPPUNIT_TEST(testOutboxRowsOutOfOrderGoInANewStream);
    CPPUNIT_TEST(testRedoLogOfAnOldPeerdIsApplied);
    CPPUNIT_TEST(testChangesAfterAHoleInTheRedoLogAreLeftOut);
    CPPUNIT_TEST_SUITE_END();

public:
    void testEnqueueNumbersOneStreamPerPeer()
    {
        PeerStore store(100);
        const auto first = store.outbox.enqueue("bob", "alice", "12:00:00", 1, "one");
        const auto second = store.outbox.enqueue("bob", "alice", "12:00:01", 2, "two");
        const auto other = store.outbox.enqueue("carol", "alice", "12:00:02", 3, "three");
        CPPUNIT_ASSERT(peerchat::isStreamId(first.stream));
        // Short enough to live inside the string: no allocation per copy.
        CPPUNIT_ASSERT_EQUAL(std::size_t(15), first.stream.size());
        CPPUNIT_ASSERT(first.stream.capacity() <= std::string().capacity());
        CPPUNIT_ASSERT_EQUAL(first.stream, second.stream);
        CPPUNIT_ASSERT(first.stream != other.stream);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), first.seq);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(2), second.seq);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), other.seq);
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), store.outbox.outbox().size());
        CPPUNIT_ASSERT(store.lines.history(kBob).at(1).state == peerchat::local::LineState::Pending);
        // The text is the outbox's and the line's alike.
        CPPUNIT_ASSERT_EQUAL(std::string("two"), second.text);
        CPPUNIT_ASSERT_EQUAL(std::string("three"), store.outbox.outbox().back().text);
        CPPUNIT_ASSERT_EQUAL(std::string("two"), store.lines.history(kBob).at(1).text);
    }

    void testAcknowledgeDeliversUpToSeq()
    {
        PeerStore store(100);
        const auto first = store.outbox.enqueue("bob", "alice", "12:00:00", 1, "one");
        store.outbox.enqueue("bob", "alice", "12:00:01", 2, "two");
        store.outbox.enqueue("bob", "alice", "12:00:02", 3, "three");
        CPPUNIT_ASSERT(store.outbox.acknowledge("bob", "0", 3).empty());
        const auto changed = store.outbox.acknowledge("bob", first.stream, 2);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), changed.size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), store.outbox.outbox().size());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(3), store.outbox.outbox().front().seq);
        const auto lines = store.lines.history(kBob);
        CPPUNIT_ASSERT(lines[0].state == peerchat::local::LineState::Delivered);
        CPPUNIT_ASSERT(lines[1].state == peerchat::local::LineState::Delivered);
        CPPUNIT_ASSERT(lines[2].state == peerchat::local::LineState::Pending);
        CPPUNIT_ASSERT(store.outbox.acknowledge("bob", first.stream, 2).empty());
        CPPUNIT_ASSERT(store.lines.setState(kBob, lines[2].id, peerchat::local::LineState::Failed));
        CPPUNIT_ASSERT(store.lines.history(kBob)[2].state == peerchat::local::LineState::Failed);
        CPPUNIT_ASSERT(!store.lines.setState(kBob, 99, peerchat::local::LineState::Failed));
    }

    // An ack marks the lines it covers in runs of ids; a line of the peer's in between keeps its state.
    void testAcknowledgeLeavesLinesInBetweenAsTheyWere()
    {
        TempDir dir;
        const std::string path = dir.file("alice.db");
        {
            PeerStore store(path, 100);
            const auto first = store.outbox.enqueue("bob", "alice", "12:00:00", 1, "one");
            store.outbox.enqueue("bob", "alice", "12:00:01", 2, "two");
            store.incoming.deliver("bob", "ff", 1, "12:00:02", 3, "an answer");
            store.outbox.enqueue("bob", "alice", "12:00:03", 4, "three");
            store.outbox.enqueue("bob", "alice", "12:00:04", 5, "four");
            store.outbox.enqueue("bob", "alice", "12:00:05", 6, "five");
            CPPUNIT_ASSERT((store.outbox.acknowledge("bob", first.stream, 4) == std::vector<std::uint64_t>{1, 2, 4, 5}));
        }
        PeerStore store(path, 100);
        using peerchat::local::LineState;
        const std::vector<LineState> states{LineState::Delivered, LineState::Delivered, LineState::Received,
                                            LineState::Delivered, LineState::Delivered, LineState::Pending};
        const auto lines = store.lines.history(kBob);
        CPPUNIT_ASSERT_EQUAL(states.size(), lines.size());
        for (std::size_t i = 0; i < states.size(); ++i) CPPUNIT_ASSERT(lines[i].state == states[i]);
    }

    void testTrustKeyPinsAndRenumbersWaitingLinesAndSurvivesReopen()
    {
        TempDir dir;
        const std::string path = dir.file("alice.db");
        std::string restarted;
        {
            PeerStore store(path, 100);
            const auto first = store.outbox.enqueue("bob", "alice", "12:00:00", 1, "one");
            store.outbox.enqueue("carol", "alice", "12:00:01", 2, "for carol");
            store.outbox.enqueue("bob", "alice", "12:00:02", 3, "two");
            store.outbox.enqueue("bob", "alice", "12:00:03", 4, "three");
            store.outbox.acknowledge("bob", first.stream, 1);
            trustKey(store, "bob", KeyPin{key(2), std::nullopt});
            const auto moved = store.outbox.outboxTo("bob");
            CPPUNIT_ASSERT_EQUAL(std::size_t(2), moved.size());
            restarted = moved[0].stream;
            CPPUNIT_ASSERT(peerchat::isStreamId(restarted));
            CPPUNIT_ASSERT(restarted != first.stream);
            CPPUNIT_ASSERT_EQUAL(std::string("two"), moved[0].text);
            CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), moved[0].seq);
            CPPUNIT_ASSERT_EQUAL(std::uint64_t(2), moved[1].seq);
            CPPUNIT_ASSERT_EQUAL(restarted, moved[1].stream);
            CPPUNIT_ASSERT_EQUAL(std::uint64_t(3), store.outbox.enqueue("bob", "alice", "12:00:04", 5, "four").seq);
            trustKey(store, "dave", KeyPin{key(3), std::nullopt});
            CPPUNIT_ASSERT(store.outbox.outboxTo("dave").empty());
        }
        PeerStore store(path, 100);
        CPPUNIT_ASSERT(store.keys.keyPins().at("bob").pinned == key(2));
        CPPUNIT_ASSERT(store.keys.keyPins().at("dave").pinned == key(3));
        // Per peer, in stream order: bob's three, then carol's one.
        const auto outbox = store.outbox.outbox();
        CPPUNIT_ASSERT_EQUAL(std::size_t(4), outbox.size());
        for (std::size_t i = 0; i < 3; ++i) {
            CPPUNIT_ASSERT_EQUAL(std::string("bob"), outbox[i].peer);
            CPPUNIT_ASSERT_EQUAL(restarted, outbox[i].stream);
            CPPUNIT_ASSERT_EQUAL(std::uint64_t(i + 1), outbox[i].seq);
        }
        CPPUNIT_ASSERT_EQUAL(std::string("carol"), outbox[3].peer);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), outbox[3].seq);
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), store.outbox.acknowledge("bob", restarted, 3).size());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(4), store.outbox.enqueue("bob", "alice", "12:00:05", 6, "five").seq);
    }

    void testDeliverAdvancesIncomingStream()
    {
        PeerStore store(100);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), store.incoming.delivered("bob", "ff"));
        store.incoming.deliver("bob", "ff", 1, "12:00:00", 1, "one");
        const auto line = store.incoming.deliver("bob", "ff", 2, "12:00:01", 2, "two");
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(2), store.incoming.delivered("bob", "ff"));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), store.incoming.delivered("bob", "ee"));
        CPPUNIT_ASSERT(line.state == peerchat::local::LineState::Received);
        CPPUNIT_ASSERT_EQUAL(std::uint32_t(2), store.lines.unread(kBob));
    }

    void testAddNumbersLinesFromOnePerPeer()
    {
        PeerStore store(100);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), store.lines.addIncoming("bob", "12:00:00", 1, "a", true).id);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(2), store.lines.addOutgoing(kBob, "alice", "12:00:01", 2, "b").id);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), store.lines.addIncoming("carol", "12:00:02", 3, "c", true).id);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(3), store.lines.addIncoming("bob", "12:00:03", 4, "d", true).id);
    }

    void testGroupConversationIsKeptApartAndSurvivesReopen()
    {
        TempDir dir;
        const std::string path = dir.file("alice.db");
        // A group whose id is also a user's name: the two are different conversations.
        const std::string id = "00112233445566778899aabbccddeeff";
        const ConversationId group = ConversationId::group(id);
        {
            PeerStore store(path, 100);
            store.lines.addIncoming(id, "12:00:00", 1, "direct", true);
            const auto line = store.lines.add(
                peerchat::local::ChatLine{0, group, false, "bob", "12:00:01", 2, "to the group", LineState::Received},
                true, {}, {}, [] { return std::string("store a group line"); });
            CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), line.id);
            CPPUNIT_ASSERT(line.conversation == group);
        }
        PeerStore store(path, 100);
        const auto lines = store.lines.history(group);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), lines.size());
        CPPUNIT_ASSERT_EQUAL(std::string("to the group"), lines[0].text);
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), lines[0].from);
        CPPUNIT_ASSERT(lines[0].conversation == group);
        CPPUNIT_ASSERT_EQUAL(std::string("direct"), store.lines.history(ConversationId::direct(id)).at(0).text);
        const auto counts = store.lines.unreadCounts();
        CPPUNIT_ASSERT_EQUAL(std::uint32_t(1), counts.at(group));
        CPPUNIT_ASSERT_EQUAL(std::uint32_t(1), counts.at(ConversationId::direct(id)));
        CPPUNIT_ASSERT(store.outbox.outbox().empty());
    }

    void testGroupsOutliveTheStoreAndSchema8Migrates()
    {
        TempDir dir;
        const std::string path = dir.file("alice.db");
        const auto owner = peerchat::SigningKey::generate();
        const auto group = peerchat::GroupMembership::create(peerchat::GroupMembership::newId(), "天涯 team", "alice",
                                                              owner);
        {
            PeerStore store(path, 100);
            store.lines.addIncoming("bob", "12:00:00", 1, "said before groups", true);
        }
        // A database of schema 8, as the peerd before groups left it.
        rawSession(path) << "DROP TABLE chat_group", now;
        rawSession(path) << "PRAGMA user_version = 8", now;
        {
            PeerStore store(path, 100);
            CPPUNIT_ASSERT_EQUAL(std::string("said before groups"), store.lines.history(kBob).at(0).text);
            CPPUNIT_ASSERT(store.groups.groups().empty());
            store.groups.save(group);
        }
        CPPUNIT_ASSERT_EQUAL(StoreDatabase::kSchemaVersion, userVersion(path));
        PeerStore store(path, 100);
        const auto groups = store.groups.groups();
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), groups.size());
        CPPUNIT_ASSERT_EQUAL(group.encode(), groups.at(group.id).encode());
    }

    void testOpenRefusesDamagedGroup()
    {
        TempDir dir;
        const std::string path = dir.file("alice.db");
        {
            PeerStore store(path, 100);
        }
        rawSession(path) << "INSERT INTO chat_group VALUES ('00112233445566778899aabbccddeeff', 'group,x')", now;
        PeerStore store(path, 100);
        try {
            store.groups.groups();
            CPPUNIT_FAIL("a damaged group was read");
        } catch (const Poco::IOException& e) {
            CPPUNIT_ASSERT_MESSAGE(e.message(),
                                   contains(e.message(), "cannot read the group 00112233445566778899aabbccddeeff"));
        }
    }

    void testAddKeepsBothDirectionsInOrder()
    {
        PeerStore store(100);
        store.lines.addIncoming("bob", "3:04:05 PM", 1000, "hi, alice", true);
        store.lines.addOutgoing(kBob, "alice", "15:04:06", 2000, "你好, bob");
        const auto lines = store.lines.history(kBob);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), lines.size());

        CPPUNIT_ASSERT_EQUAL(std::string("bob"), lines[0].conversation.name());
        CPPUNIT_ASSERT(!lines[0].outgoing);
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), lines[0].from);
        CPPUNIT_ASSERT_EQUAL(std::string("3:04:05 PM"), lines[0].sentTime);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(1000), lines[0].receivedAtMs);
        CPPUNIT_ASSERT_EQUAL(std::string("hi, alice"), lines[0].text);

        CPPUNIT_ASSERT_EQUAL(std::string("bob"), lines[1].conversation.name());
        CPPUNIT_ASSERT(lines[1].outgoing);
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), lines[1].from);
        CPPUNIT_ASSERT_EQUAL(std::string("15:04:06"), lines[1].sentTime);
        CPPUNIT_ASSERT_EQUAL(std::string("你好, bob"), lines[1].text);
    }

    void testHistoryLimitDropsOldestAndKeepsCounting()
    {
        PeerStore store(3);
        for (int i = 1; i <= 5; ++i) store.lines.addIncoming("bob", "12:00:00", i, "line " + std::to_string(i), true);
        const auto lines = store.lines.history(kBob);
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), lines.size());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(3), lines[0].id);
        CPPUNIT_ASSERT_EQUAL(std::string("line 3"), lines[0].text);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(5), lines[2].id);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(6), store.lines.addOutgoing(kBob, "alice", "12:00:01", 6, "six").id);
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), store.lines.history(kBob).size());
    }

    void testHistoryOfStrangerIsEmpty()
    {
        PeerStore store(10);
        store.lines.addIncoming("bob", "12:00:00", 1, "hi", true);
        CPPUNIT_ASSERT(store.lines.history(ConversationId::direct("carol")).empty());
        CPPUNIT_ASSERT_EQUAL(std::uint32_t(0), store.lines.unread(ConversationId::direct("carol")));
    }

    void testIncomingRaisesUnreadOutgoingDoesNot()
    {
        PeerStore store(10);
        store.lines.addIncoming("bob", "12:00:00", 1, "one", true);
        store.lines.addIncoming("bob", "12:00:01", 2, "two", true);
        store.lines.addOutgoing(kBob, "alice", "12:00:02", 3, "three");
        CPPUNIT_ASSERT_EQUAL(std::uint32_t(2), store.lines.unread(kBob));
    }

    void testMarkReadZeroesOnePeer()
    {
        PeerStore store(10);
        store.lines.addIncoming("bob", "12:00:00", 1, "one", true);
        store.lines.addIncoming("carol", "12:00:00", 1, "one", true);
        store.lines.markRead(kBob);
        store.lines.markRead(ConversationId::direct("nobody"));
        CPPUNIT_ASSERT_EQUAL(std::uint32_t(0), store.lines.unread(kBob));
        CPPUNIT_ASSERT_EQUAL(std::uint32_t(1), store.lines.unread(ConversationId::direct("carol")));
        store.lines.addIncoming("bob", "12:00:01", 2, "again", true);
        CPPUNIT_ASSERT_EQUAL(std::uint32_t(1), store.lines.unread(kBob));
    }

    void testUnreadCountsListOnlyNonZero()
    {
        PeerStore store(10);
        store.lines.addIncoming("bob", "12:00:00", 1, "one", true);
        store.lines.addIncoming("bob", "12:00:00", 1, "two", true);
        store.lines.addIncoming("carol", "12:00:00", 1, "one", true);
        store.lines.addOutgoing(ConversationId::direct("dave"), "alice", "12:00:00", 1, "hello");
        store.lines.markRead(ConversationId::direct("carol"));
        const auto counts = store.lines.unreadCounts();
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), counts.size());
        CPPUNIT_ASSERT_EQUAL(std::uint32_t(2), counts.at(kBob));
    }

    void testSearchMatchesTextLiterally()
    {
        PeerStore store(100);
        store.lines.addIncoming("bob", "12:00:00", 1, "50% off", true);
        store.lines.addIncoming("bob", "12:00:01", 2, "500 off", true);
        store.lines.addIncoming("bob", "12:00:02", 3, "a_b", true);
        store.lines.addIncoming("bob", "12:00:03", 4, "axb", true);
        store.lines.addIncoming("bob", "12:00:04", 5, "Lunch at 你好", true);
        store.lines.addIncoming("carol", "12:00:05", 6, "50% off", true);
        const auto percent = store.lines.search(kBob, "50%", 10);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), percent.size());
        CPPUNIT_ASSERT_EQUAL(std::string("50% off"), percent[0].text);
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), percent[0].conversation.name());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), store.lines.search(kBob, "a_b", 10).size());
        CPPUNIT_ASSERT(store.lines.search(kBob, "lunch", 10).empty());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(5), store.lines.search(kBob, "你好", 10).at(0).id);
        CPPUNIT_ASSERT(store.lines.search(ConversationId::direct("dave"), "off", 10).empty());
    }

    void testSearchReturnsNewestMatchesOldestFirst()
    {
        PeerStore store(100);
        for (int i = 1; i <= 6; ++i) store.lines.addIncoming("bob", "12:00:00", i, "tea " + std::to_string(i), true);
        store.lines.addOutgoing(kBob, "alice", "12:00:01", 7, "coffee");
        const auto found = store.lines.search(kBob, "tea", 3);
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), found.size());
        CPPUNIT_ASSERT_EQUAL(std::string("tea 4"), found[0].text);
        CPPUNIT_ASSERT_EQUAL(std::string("tea 6"), found[2].text);
        CPPUNIT_ASSERT(store.lines.search(kBob, "tea", 0).empty());
    }

    void testReopenFindsEverything()
    {
        TempDir dir;
        const std::string path = dir.file("alice.db");
        std::string stream;
        {
            PeerStore store(path, 100);
            store.lines.addIncoming("bob", "3:04:05 PM", 1000, "hi, alice", true);
            store.lines.addOutgoing(ConversationId::direct("dotnet"), "alice", "15:04:06", 2000, "to a seed client");
            stream = store.outbox.enqueue("bob", "alice", "15:04:07", 3000, "你好, bob").stream;
            store.outbox.enqueue("bob", "alice", "15:04:08", 4000, "still there?");
            store.outbox.enqueue("carol", "alice", "15:04:09", 5000, "hello carol");
            store.outbox.acknowledge("bob", stream, 1);
            store.lines.setState(ConversationId::direct("carol"), 1, LineState::Failed);
            store.incoming.deliver("carol", "c0ffee", 1, "15:05:00", 6000, "one");
            store.incoming.deliver("carol", "c0ffee", 2, "15:05:01", 7000, "two");
            store.lines.markRead(kBob);
        }
        PeerStore store(path, 100);
        const auto bob = store.lines.history(kBob);
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), bob.size());
        CPPUNIT_ASSERT(!bob[0].outgoing);
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), bob[0].from);
        CPPUNIT_ASSERT_EQUAL(std::string("3:04:05 PM"), bob[0].sentTime);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(1000), bob[0].receivedAtMs);
        CPPUNIT_ASSERT_EQUAL(std::string("hi, alice"), bob[0].text);
        CPPUNIT_ASSERT(bob[0].state == LineState::Received);
        CPPUNIT_ASSERT(bob[1].outgoing);
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), bob[1].from);
        CPPUNIT_ASSERT_EQUAL(std::string("你好, bob"), bob[1].text);
        CPPUNIT_ASSERT(bob[1].state == LineState::Delivered);
        CPPUNIT_ASSERT(bob[2].state == LineState::Pending);
        CPPUNIT_ASSERT(store.lines.history(ConversationId::direct("dotnet")).at(0).state == LineState::Sent);

        const auto carol = store.lines.history(ConversationId::direct("carol"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), carol.size());
        CPPUNIT_ASSERT(carol[0].state == LineState::Failed);
        CPPUNIT_ASSERT_EQUAL(std::string("two"), carol[2].text);

        CPPUNIT_ASSERT_EQUAL(std::uint32_t(0), store.lines.unread(kBob));
        CPPUNIT_ASSERT_EQUAL(std::uint32_t(2), store.lines.unread(ConversationId::direct("carol")));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), store.lines.unreadCounts().size());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(2), store.incoming.delivered("carol", "c0ffee"));

        const auto outbox = store.outbox.outbox();
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), outbox.size());
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), outbox[0].peer);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(3), outbox[0].lineId);
        CPPUNIT_ASSERT_EQUAL(stream, outbox[0].stream);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(2), outbox[0].seq);
        CPPUNIT_ASSERT_EQUAL(std::string("15:04:08"), outbox[0].sentTime);
        CPPUNIT_ASSERT_EQUAL(std::string("still there?"), outbox[0].text);
        CPPUNIT_ASSERT_EQUAL(std::string("carol"), outbox[1].peer);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), outbox[1].seq);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), store.lines.search(kBob, "你好", 10).size());
    }

    void testReopenContinuesIdsAndStreams()
    {
        TempDir dir;
        const std::string path = dir.file("alice.db");
        std::string stream;
        {
            PeerStore store(path, 100);
            store.lines.addIncoming("bob", "12:00:00", 1, "one", true);
            stream = store.outbox.enqueue("bob", "alice", "12:00:01", 2, "two").stream;
        }
        PeerStore store(path, 100);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(3), store.lines.addIncoming("bob", "12:00:02", 3, "three", true).id);
        const auto next = store.outbox.enqueue("bob", "alice", "12:00:03", 4, "four");
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(4), next.lineId);
        CPPUNIT_ASSERT_EQUAL(stream, next.stream);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(2), next.seq);
        CPPUNIT_ASSERT_EQUAL(std::uint32_t(2), store.lines.unread(kBob));
    }

    void testReopenAppliesSmallerHistoryLimit()
    {
        TempDir dir;
        const std::string path = dir.file("alice.db");
        {
            PeerStore store(path, 10);
            for (int i = 1; i <= 5; ++i) store.lines.addIncoming("bob", "12:00:00", i, "line " + std::to_string(i), true);
        }
        PeerStore store(path, 3);
        const auto lines = store.lines.history(kBob);
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), lines.size());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(3), lines[0].id);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(6), store.lines.addIncoming("bob", "12:00:01", 6, "six", true).id);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(4), store.lines.history(kBob).at(0).id);
    }

    void testOpenMigratesEmptyFileToCurrentVersion()
    {
        TempDir dir;
        const std::string path = dir.file("alice.db");
        std::ofstream(path).close();
        CPPUNIT_ASSERT_EQUAL(0, userVersion(path));
        {
            PeerStore store(path, 100);
            store.lines.addIncoming("bob", "12:00:00", 1, "hi", true);
        }
        CPPUNIT_ASSERT_EQUAL(StoreDatabase::kSchemaVersion, userVersion(path));
        PeerStore store(path, 100);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), store.lines.history(kBob).size());
    }

    void testOpenCreatesPrivateDirectoryAndFile()
    {
        TempDir dir;
        const std::string path = dir.file("data/peerchat/alice.db");
        {
            PeerStore store(path, 100);
            store.lines.addIncoming("bob", "12:00:00", 1, "hi", true);
        }
        CPPUNIT_ASSERT_EQUAL(mode_t(0700), modeOf(dir.file("data")));
        CPPUNIT_ASSERT_EQUAL(mode_t(0700), modeOf(dir.file("data/peerchat")));
        CPPUNIT_ASSERT_EQUAL(mode_t(0600), modeOf(path));
    }

    void testOpenRefusesNewerSchemaVersion()
    {
        TempDir dir;
        const std::string path = dir.file("alice.db");
        {
            PeerStore store(path, 100);
            store.lines.addIncoming("bob", "12:00:00", 1, "hi", true);
        }
        rawSession(path) << "PRAGMA user_version = " + std::to_string(StoreDatabase::kSchemaVersion + 1), now;
        const std::string why = openFailure(path);
        CPPUNIT_ASSERT_MESSAGE(why, contains(why, "cannot open " + path + ": it was written by a newer peerd (schema "
                                                  "version " + std::to_string(StoreDatabase::kSchemaVersion + 1)));
        CPPUNIT_ASSERT_MESSAGE(why, contains(why, "pass another --database"));
        CPPUNIT_ASSERT_EQUAL(StoreDatabase::kSchemaVersion + 1, userVersion(path));
    }

    void testOpenRefusesDatabaseInUse()
    {
        TempDir dir;
        const std::string path = dir.file("alice.db");
        PeerStore first(path, 100);
        const std::string why = openFailure(path);
        CPPUNIT_ASSERT_EQUAL(
            "cannot open " + path + ": another peerd is using it; stop that peerd or pass another --database", why);
        first.lines.addIncoming("bob", "12:00:00", 1, "still mine", true);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), first.lines.history(kBob).size());
    }

    void testOpenRefusesFileThatIsNoDatabase()
    {
        TempDir dir;
        const std::string path = dir.file("alice.db");
        std::ofstream(path) << std::string(4096, 'x');
        const std::string why = openFailure(path);
        CPPUNIT_ASSERT_MESSAGE(why, contains(why, "cannot open " + path + ": "));
        CPPUNIT_ASSERT_MESSAGE(why, contains(why, "not a database"));
    }

    void testDeliverReachesDatabaseWholeOrNotAtAll()
    {
        TempDir dir;
        const std::string path = dir.file("alice.db");
        { PeerStore store(path, 100); }
        // A line the database refuses to take, so that applying deliver fails halfway.
        rawSession(path) << "CREATE TRIGGER refuse_poison BEFORE INSERT ON line WHEN NEW.text = 'poison' "
                            "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
            now;
        {
            PeerStore store(path, 100);
            store.incoming.deliver("bob", "ff", 1, "12:00:00", 1, "one");
            store.database.flush();
            // Kept in the redo log; the database refuses it when the writer applies it.
            store.incoming.deliver("bob", "ff", 2, "12:00:01", 2, "poison");
            CPPUNIT_ASSERT_THROW(store.database.flush(), Poco::IOException);
            CPPUNIT_ASSERT_EQUAL(std::uint64_t(2), store.incoming.delivered("bob", "ff"));
        }
        // Neither the line nor the stream's position reached the database.
        CPPUNIT_ASSERT_EQUAL(1, rowCount(path, "line"));
        CPPUNIT_ASSERT_EQUAL(1, rowCount(path, "incoming_stream WHERE delivered = 1"));
        // Once the database takes it, the next open applies it from the redo log, whole.
        rawSession(path) << "DROP TRIGGER refuse_poison", now;
        PeerStore store(path, 100);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(2), store.incoming.delivered("bob", "ff"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), store.lines.history(kBob).size());
        CPPUNIT_ASSERT_EQUAL(std::uint32_t(2), store.lines.unread(kBob));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(3), store.incoming.deliver("bob", "ff", 3, "12:00:02", 3, "three").id);
    }

    void testEnqueueReachesDatabaseWholeOrNotAtAll()
    {
        TempDir dir;
        const std::string path = dir.file("alice.db");
        { PeerStore store(path, 100); }
        rawSession(path) << "CREATE TRIGGER refuse_poison BEFORE INSERT ON line WHEN NEW.text = 'poison' "
                            "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
            now;
        {
            PeerStore store(path, 100);
            store.outbox.enqueue("bob", "alice", "12:00:00", 1, "one");
            store.database.flush();
            store.outbox.enqueue("bob", "alice", "12:00:01", 2, "poison");
            CPPUNIT_ASSERT_THROW(store.database.flush(), Poco::IOException);
            CPPUNIT_ASSERT_EQUAL(std::size_t(2), store.outbox.queuedTo("bob"));
        }
        CPPUNIT_ASSERT_EQUAL(1, rowCount(path, "line"));
        rawSession(path) << "DROP TRIGGER refuse_poison", now;
        PeerStore store(path, 100);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), store.lines.history(kBob).size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), store.outbox.outbox().size());
        const auto next = store.outbox.enqueue("bob", "alice", "12:00:02", 3, "two");
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(3), next.lineId);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(3), next.seq);
    }

    void testIncomingKeepsVerifiedMark()
    {
        TempDir dir;
        const std::string path = dir.file("alice.db");
        {
            PeerStore store(path, 100);
            CPPUNIT_ASSERT(!store.lines.addIncoming("seed", "12:00:00", 1, "plain talk", false).verified);
            CPPUNIT_ASSERT(store.lines.addIncoming("bob", "12:00:01", 2, "sealed", true).verified);
            CPPUNIT_ASSERT(store.incoming.deliver("carol", "ff", 1, "12:00:02", 3, "sealed too").verified);
            CPPUNIT_ASSERT(store.lines.addOutgoing(ConversationId::direct("seed"), "alice", "12:00:03", 4, "mine").verified);
        }
        PeerStore store(path, 100);
        const auto seed = store.lines.history(ConversationId::direct("seed"));
        CPPUNIT_ASSERT(!seed.at(0).verified);
        CPPUNIT_ASSERT(seed.at(1).verified);
        CPPUNIT_ASSERT(store.lines.history(kBob).at(0).verified);
        CPPUNIT_ASSERT(store.lines.history(ConversationId::direct("carol")).at(0).verified);
        CPPUNIT_ASSERT(!store.lines.search(ConversationId::direct("seed"), "plain", 10).at(0).verified);
    }

    void testOpenMigratesVersion1MarkingOldLinesUnverified()
    {
        TempDir dir;
        const std::string path = dir.file("alice.db");
        {
            // The schema as the first peerd wrote it, with one line of plain peerchat/1 talk.
            Poco::Data::Session session = rawSession(path);
            session << "CREATE TABLE conversation (peer TEXT PRIMARY KEY, last_id INTEGER NOT NULL, "
                       "unread INTEGER NOT NULL)", now;
            session << "CREATE TABLE line (peer TEXT NOT NULL, id INTEGER NOT NULL, outgoing INTEGER NOT NULL, "
                       "sender TEXT NOT NULL, sent_time TEXT NOT NULL, received_at_ms INTEGER NOT NULL, "
                       "text TEXT NOT NULL, state TEXT NOT NULL, PRIMARY KEY (peer, id)) WITHOUT ROWID", now;
            session << "CREATE TABLE outgoing_stream (peer TEXT PRIMARY KEY, stream TEXT NOT NULL, "
                       "last_seq INTEGER NOT NULL)", now;
            session << "CREATE TABLE outbox (position INTEGER PRIMARY KEY, peer TEXT NOT NULL, "
                       "line_id INTEGER NOT NULL, stream TEXT NOT NULL, seq INTEGER NOT NULL, "
                       "sent_time TEXT NOT NULL, text TEXT NOT NULL)", now;
            session << "CREATE TABLE incoming_stream (sender TEXT NOT NULL, stream TEXT NOT NULL, "
                       "delivered INTEGER NOT NULL, PRIMARY KEY (sender, stream)) WITHOUT ROWID", now;
            session << "INSERT INTO conversation VALUES ('bob', 1, 1)", now;
            session << "INSERT INTO line VALUES ('bob', 1, 0, 'bob', '12:00:00', 1000, 'old line', 'received')", now;
            // Two lines to carol still queued, the later one first in the table's order of rows.
            session << "INSERT INTO conversation VALUES ('carol', 2, 0)", now;
            session << "INSERT INTO line VALUES ('carol', 1, 1, 'alice', '11:00:00', 900, 'first', 'pending')", now;
            session << "INSERT INTO line VALUES ('carol', 2, 1, 'alice', '11:00:01', 901, 'second', 'pending')", now;
            session << "INSERT INTO outgoing_stream VALUES ('carol', 'cc', 2)", now;
            session << "INSERT INTO outbox VALUES (7, 'carol', 2, 'cc', 2, '11:00:01', 'second')", now;
            session << "INSERT INTO outbox VALUES (9, 'carol', 1, 'cc', 1, '11:00:00', 'first')", now;
            session << "PRAGMA user_version = 1", now;
        }
        {
            PeerStore store(path, 100);
            const auto lines = store.lines.history(kBob);
            CPPUNIT_ASSERT_EQUAL(std::size_t(1), lines.size());
            CPPUNIT_ASSERT_EQUAL(std::string("old line"), lines[0].text);
            CPPUNIT_ASSERT(!lines[0].verified);
            CPPUNIT_ASSERT_EQUAL(std::uint32_t(1), store.lines.unread(kBob));
            // The queued lines come back whole, in the order of their ids, and an ack takes them out.
            const auto queued = store.outbox.outbox();
            CPPUNIT_ASSERT_EQUAL(std::size_t(2), queued.size());
            CPPUNIT_ASSERT_EQUAL(std::string("first"), queued[0].text);
            CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), queued[0].seq);
            CPPUNIT_ASSERT_EQUAL(std::string("11:00:01"), queued[1].sentTime);
            CPPUNIT_ASSERT_EQUAL(std::uint64_t(3), store.outbox.enqueue("carol", "alice", "11:00:02", 902, "third").seq);
            CPPUNIT_ASSERT_EQUAL(std::size_t(2), store.outbox.acknowledge("carol", "cc", 2).size());
            CPPUNIT_ASSERT(store.keys.keyPins().empty());
            CPPUNIT_ASSERT(store.keys.indexKeys().empty());
            CPPUNIT_ASSERT(store.lines.addIncoming("bob", "12:00:01", 2000, "new line", true).verified);
            store.keys.saveKeyPin("bob", KeyPin{key(1), std::nullopt});
            CPPUNIT_ASSERT(!store.lines.lineWithKey(kBob, "k"));
            store.outbox.enqueue("bob", "alice", "12:00:02", 3000, "keyed line", "k");
        }
        CPPUNIT_ASSERT_EQUAL(StoreDatabase::kSchemaVersion, userVersion(path));
        // The outbox table's rows became queued lines: carol's third line and bob's keyed one are queued.
        CPPUNIT_ASSERT_EQUAL(0, rowCount(path, "outbox"));
        PeerStore store(path, 100);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), store.outbox.outbox().size());
        CPPUNIT_ASSERT_EQUAL(std::string("third"), store.outbox.outbox().at(1).text);
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), store.lines.history(kBob).size());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(3), store.lines.lineWithKey(kBob, "k")->id);
        CPPUNIT_ASSERT(store.keys.keyPins().at("bob").pinned == key(1));
        CPPUNIT_ASSERT(store.keys.keyPins().at("bob").keyless == KeyPin::Keyless::None);
    }

    void testKeyPinsSurviveReopen()
    {
        TempDir dir;
        const std::string path = dir.file("alice.db");
        {
            PeerStore store(path, 100);
            store.keys.saveKeyPin("bob", KeyPin{key(1), key(2)});
            store.keys.saveKeyPin("carol", KeyPin{key(3), std::nullopt});
            store.keys.saveKeyPin("carol", KeyPin{key(4), std::nullopt});
            store.keys.saveIndexKey("127.0.0.1:9400", key(5));
            store.keys.saveKeyPin("dave", KeyPin{key(6), std::nullopt, KeyPin::Keyless::Offered});
            store.keys.saveKeyPin("erin", KeyPin{key(7), std::nullopt, KeyPin::Keyless::Accepted});
        }
        PeerStore store(path, 100);
        const auto pins = store.keys.keyPins();
        CPPUNIT_ASSERT_EQUAL(std::size_t(4), pins.size());
        CPPUNIT_ASSERT(pins.at("bob").keyless == KeyPin::Keyless::None);
        CPPUNIT_ASSERT(pins.at("dave").keyless == KeyPin::Keyless::Offered);
        CPPUNIT_ASSERT(pins.at("erin").keyless == KeyPin::Keyless::Accepted);
        CPPUNIT_ASSERT(pins.at("erin").pinned == key(7));
        CPPUNIT_ASSERT(pins.at("bob").pinned == key(1));
        CPPUNIT_ASSERT(pins.at("bob").offered == key(2));
        CPPUNIT_ASSERT(pins.at("carol").pinned == key(4));
        CPPUNIT_ASSERT(!pins.at("carol").offered);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), store.keys.indexKeys().size());
        CPPUNIT_ASSERT(store.keys.indexKeys().at("127.0.0.1:9400") == key(5));
    }

    void testKeyPinsOfSchema3KeptOnMigration()
    {
        TempDir dir;
        const std::string path = dir.file("alice.db");
        {
            PeerStore store(path, 100);
            store.keys.saveKeyPin("bob", KeyPin{key(1), key(2)});
            store.keys.saveKeyPin("carol", KeyPin{key(3), std::nullopt});
        }
        // The keys table as schema 3 had it, and nothing of schemas 5 to 9.
        rawSession(path) << "DROP TABLE chat_group", now;
        rawSession(path) << "DROP TABLE contact", now;
        rawSession(path) << "DROP TABLE setting", now;
        rawSession(path) << "ALTER TABLE keys DROP COLUMN keyless", now;
        rawSession(path) << "DROP TABLE redo", now;
        rawSession(path) << "DROP TABLE delivered", now;
        rawSession(path) << "DROP TABLE outbox", now;
        rawSession(path) << "CREATE TABLE outbox (position INTEGER PRIMARY KEY, peer TEXT NOT NULL, "
                            "line_id INTEGER NOT NULL, stream TEXT NOT NULL, seq INTEGER NOT NULL, "
                            "sent_time TEXT NOT NULL, text TEXT NOT NULL)", now;
        rawSession(path) << "PRAGMA user_version = 3", now;
        {
            PeerStore store(path, 100);
            const auto pins = store.keys.keyPins();
            CPPUNIT_ASSERT_EQUAL(std::size_t(2), pins.size());
            CPPUNIT_ASSERT(pins.at("bob").pinned == key(1) && pins.at("bob").offered == key(2));
            CPPUNIT_ASSERT(pins.at("bob").keyless == KeyPin::Keyless::None);
            CPPUNIT_ASSERT(pins.at("carol").pinned == key(3) && !pins.at("carol").offered);
            CPPUNIT_ASSERT(pins.at("carol").keyless == KeyPin::Keyless::None);
        }
        CPPUNIT_ASSERT_EQUAL(StoreDatabase::kSchemaVersion, userVersion(path));
    }

    void testContactsAndSettingsOutliveTheStore()
    {
        TempDir dir;
        const std::string path = dir.file("alice.db");
        {
            PeerStore store(path, 100);
            store.contacts.saveContact("bob", ContactRecord{Relation::Asked, false, "hi, it's alice", 1700000000000, "", 0,
                                                   ContactKind::Request, 3, true});
            store.contacts.saveContact("天涯", ContactRecord{Relation::AskedMe, true, "你好", 5, "ff", 9, std::nullopt, 0, false});
            store.settings.saveSetting("contact.stream", "0123456789abcde");
        }
        PeerStore store(path, 100);
        const auto contacts = store.contacts.contacts();
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), contacts.size());
        const ContactRecord& bob = contacts.at("bob");
        CPPUNIT_ASSERT(bob.relation == Relation::Asked && !bob.blocked && bob.note == "hi, it's alice");
        CPPUNIT_ASSERT_EQUAL(std::int64_t(1700000000000), bob.sinceMs);
        CPPUNIT_ASSERT(bob.outKind == ContactKind::Request && bob.outSeq == 3 && bob.outPending);
        const ContactRecord& other = contacts.at("天涯");
        CPPUNIT_ASSERT(other.relation == Relation::AskedMe && other.blocked && other.note == "你好");
        CPPUNIT_ASSERT(other.inStream == "ff" && other.inSeq == 9 && !other.outKind && !other.outPending);
        CPPUNIT_ASSERT_EQUAL(std::string("0123456789abcde"), store.settings.settings().at("contact.stream"));
    }

    void testPeersTalkedWithBecomeContactsOnMigration()
    {
        TempDir dir;
        const std::string path = dir.file("alice.db");
        {
            PeerStore store(path, 100);
            store.keys.saveKeyPin("bob", KeyPin{key(1), std::nullopt});
            store.outbox.enqueue("bob", "alice", "12:00:00", 1, "hi bob");
            store.keys.saveKeyPin("carol", KeyPin{key(2), std::nullopt});
            store.lines.addIncoming("dave", "12:00:01", 2, "plain talk", false);
        }
        // A database of schema 7: before contacts.
        rawSession(path) << "DROP TABLE chat_group", now;
        rawSession(path) << "DROP TABLE contact", now;
        rawSession(path) << "DROP TABLE setting", now;
        rawSession(path) << "PRAGMA user_version = 7", now;
        PeerStore store(path, 100);
        const auto contacts = store.contacts.contacts();
        // bob talked under a pinned key; carol was only seen; dave, a seed user, has no key.
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), contacts.size());
        CPPUNIT_ASSERT(contacts.at("bob").relation == Relation::Contact);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), store.lines.history(kBob).size());
    }

    void testPassedLineMovesTheStreamAndStoresNothing()
    {
        PeerStore store(100);
        store.incoming.pass("bob", "ff", 1);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), store.incoming.delivered("bob", "ff"));
        CPPUNIT_ASSERT(store.lines.history(kBob).empty());
        CPPUNIT_ASSERT_EQUAL(std::uint32_t(0), store.lines.unread(kBob));
    }

    void testOpenRefusesDamagedKey()
    {
        TempDir dir;
        const std::string path = dir.file("alice.db");
        {
            PeerStore store(path, 100);
            store.keys.saveKeyPin("bob", KeyPin{key(1), std::nullopt});
        }
        rawSession(path) << "UPDATE keys SET pinned = 'short' WHERE name = 'bob'", now;
        PeerStore store(path, 100);
        try {
            store.keys.keyPins();
            CPPUNIT_FAIL("a damaged key was read");
        } catch (const Poco::IOException& e) {
            CPPUNIT_ASSERT_EQUAL("cannot read the pinned keys in " + path +
                                     ": the stored key of bob is damaged; move the database aside or pass another "
                                     "--database",
                                 e.message());
        }
    }

    void testFullDiskRefusesChangesUntilThereIsRoom()
    {
        TempDir dir;
        const std::string path = dir.file("alice.db");
        {
            PeerStore store(path, 100);
            store.outbox.enqueue("bob", "alice", "12:00:00", 1, "before", "k1");
            store.database.flush();
            store.database.limitPages(1);
            // The redo log takes the line; the database has no room for it.
            const auto kept = store.outbox.enqueue("bob", "alice", "12:00:01", 2, peerchat::test::kMoreThanFreePages, "k2");
            try {
                store.database.flush();
                CPPUNIT_FAIL("a line reached a full database");
            } catch (const DiskFullException& e) {
                CPPUNIT_ASSERT_EQUAL("the disk holding " + path + " is full", e.message());
            }
            // From then on every change is refused whole until the database has room.
            CPPUNIT_ASSERT_THROW(store.lines.addIncoming("bob", "12:00:02", 3, peerchat::test::kMoreThanFreePages, true), DiskFullException);
            CPPUNIT_ASSERT_THROW(store.lines.addOutgoing(ConversationId::direct("seed"), "alice", "12:00:03", 4, peerchat::test::kMoreThanFreePages), DiskFullException);
            CPPUNIT_ASSERT_THROW(store.outbox.enqueue("bob", "alice", "12:00:04", 5, "refused", "k3"), DiskFullException);
            CPPUNIT_ASSERT_THROW(store.lines.history(kBob), DiskFullException);
            CPPUNIT_ASSERT_EQUAL(std::size_t(2), store.outbox.queuedTo("bob"));
            CPPUNIT_ASSERT_EQUAL(std::uint32_t(0), store.lines.unread(kBob));
            CPPUNIT_ASSERT(!store.lines.lineWithKey(ConversationId::direct("seed"), "k3"));

            // No restart: the same store takes changes again as soon as there is room.
            store.database.limitPages(1000000);
            CPPUNIT_ASSERT_EQUAL(kept.lineId, store.lines.lineWithKey(kBob, "k2")->id);
            const auto next = store.outbox.enqueue("bob", "alice", "12:00:05", 6, "after", "k3");
            CPPUNIT_ASSERT_EQUAL(std::uint64_t(3), next.lineId);
            CPPUNIT_ASSERT_EQUAL(std::uint64_t(3), next.seq);
            CPPUNIT_ASSERT_EQUAL(std::uint64_t(4), store.lines.addIncoming("bob", "12:00:06", 7, "hi", true).id);
        }
        PeerStore store(path, 100);
        CPPUNIT_ASSERT_EQUAL(std::size_t(4), store.lines.history(kBob).size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), store.outbox.outbox().size());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(2), store.lines.lineWithKey(kBob, "k2")->id);
        CPPUNIT_ASSERT(store.lines.history(ConversationId::direct("seed")).empty());
    }

    void testFullDiskRefusesDeliveryAndKeepsPosition()
    {
        PeerStore store(100);
        store.incoming.deliver("bob", "ff", 1, "12:00:00", 1, "one");
        store.database.flush();
        store.database.limitPages(1);
        store.incoming.deliver("bob", "ff", 2, "12:00:01", 2, peerchat::test::kMoreThanFreePages);
        CPPUNIT_ASSERT_THROW(store.database.flush(), DiskFullException);
        CPPUNIT_ASSERT_THROW(store.incoming.deliver("bob", "ff", 3, "12:00:02", 3, "three"), DiskFullException);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(2), store.incoming.delivered("bob", "ff"));
        CPPUNIT_ASSERT_EQUAL(std::uint32_t(2), store.lines.unread(kBob));
        store.database.limitPages(1000000);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(3), store.incoming.deliver("bob", "ff", 3, "12:00:02", 3, "three").id);
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), store.lines.history(kBob).size());
    }

    void testDatabaseRefusalStopsChangesAndKeepsThemForTheNextOpen()
    {
        TempDir dir;
        const std::string path = dir.file("alice.db");
        refuseChangesTo(path, "delivered", "INSERT");
        std::string stream;
        {
            PeerStore store(path, 100);
            stream = store.outbox.enqueue("bob", "alice", "12:00:00", 1, "one").stream;
            store.database.flush();
            store.outbox.acknowledge("bob", stream, 1);
            try {
                store.database.flush();
                CPPUNIT_FAIL("the database took a change its trigger refuses");
            } catch (const Poco::IOException& e) {
                CPPUNIT_ASSERT_EQUAL(std::string("refused by the test"), e.message());
            }
            try {
                store.outbox.enqueue("bob", "alice", "12:00:01", 2, "two");
                CPPUNIT_FAIL("a change was taken while the database fails");
            } catch (const Poco::IOException& e) {
                CPPUNIT_ASSERT_EQUAL("cannot queue a line to bob in " + path + ": refused by the test", e.message());
            }
            CPPUNIT_ASSERT_EQUAL(std::size_t(0), store.outbox.queuedTo("bob"));
        }
        rawSession(path) << "DROP TRIGGER refuse_INSERT", now;
        PeerStore store(path, 100);
        CPPUNIT_ASSERT(store.outbox.outbox().empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), store.lines.history(kBob).size());
        CPPUNIT_ASSERT(store.lines.history(kBob).at(0).state == LineState::Delivered);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(2), store.outbox.enqueue("bob", "alice", "12:00:01", 2, "two").seq);
    }

    // More lines than one grouped INSERT takes, in one batch, with acks and
    // received lines between them: every row is there, in order, with the
    // state the acks gave it, and the outbox holds exactly the rest.
    void testLinesWrittenInGroupsComeBackInOrder()
    {
        TempDir dir;
        const std::string path = dir.file("alice.db");
        std::string stream;
        {
            PeerStore store(path, 1000);
            store.database.flush();
            // Within the writer's gathering time, nearly always: one batch.
            for (int i = 1; i <= 40; ++i) stream = store.outbox.enqueue("bob", "alice", "12:00:00", i, "out " + std::to_string(i)).stream;
            CPPUNIT_ASSERT_EQUAL(std::size_t(20), store.outbox.acknowledge("bob", stream, 20).size());
            for (int i = 1; i <= 19; ++i) store.incoming.deliver("bob", "bb", static_cast<std::uint64_t>(i), "12:00:01", i, "in " + std::to_string(i));
            for (int i = 41; i <= 45; ++i) store.outbox.enqueue("bob", "alice", "12:00:02", i, "out " + std::to_string(i));
            // Carol's key trusted anew moves her queued lines, put in this batch too, to a new stream.
            for (int i = 1; i <= 20; ++i) store.outbox.enqueue("carol", "alice", "12:00:03", i, "to carol");
            trustKey(store, "carol", KeyPin{key(1), std::nullopt});
            stream = store.outbox.outboxTo("carol").front().stream;
        }
        PeerStore store(path, 1000);
        const auto lines = store.lines.history(kBob);
        CPPUNIT_ASSERT_EQUAL(std::size_t(64), lines.size());
        for (std::size_t i = 0; i < lines.size(); ++i) CPPUNIT_ASSERT_EQUAL(std::uint64_t(i + 1), lines[i].id);
        CPPUNIT_ASSERT_EQUAL(std::string("out 40"), lines[39].text);
        CPPUNIT_ASSERT_EQUAL(std::string("in 19"), lines[58].text);
        CPPUNIT_ASSERT_EQUAL(std::string("out 45"), lines[63].text);
        CPPUNIT_ASSERT(lines[19].state == peerchat::local::LineState::Delivered);
        CPPUNIT_ASSERT(lines[20].state == peerchat::local::LineState::Pending);
        auto queued = store.outbox.outbox();
        queued.resize(25);  // bob's, before carol's
        for (std::size_t i = 0; i < queued.size(); ++i) CPPUNIT_ASSERT_EQUAL(std::uint64_t(21 + i), queued[i].seq);
        CPPUNIT_ASSERT_EQUAL(std::string("out 45"), queued.back().text);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(19), store.incoming.delivered("bob", "bb"));
        const auto moved = store.outbox.outbox();
        CPPUNIT_ASSERT_EQUAL(std::size_t(45), moved.size());
        CPPUNIT_ASSERT_EQUAL(stream, moved.back().stream);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(20), moved.back().seq);
        CPPUNIT_ASSERT_EQUAL(stream, moved[25].stream);
    }

    void testChangesOfACrashedStoreAreKeptOnceEach()
    {
        TempDir dir;
        const std::string path = dir.file("alice.db");
        { PeerStore store(path, 100); }
        // A child process makes changes and dies without closing the store, as under kill -9:
        // whatever its writer had not applied yet is only in the redo log.
        const pid_t child = ::fork();
        CPPUNIT_ASSERT(child >= 0);
        if (child == 0) {
            PeerStore store(path, 1000);
            for (int i = 1; i <= 301; ++i) {
                const auto entry = store.outbox.enqueue("bob", "alice", "12:00:00", i, "line " + std::to_string(i));
                if (i % 3 == 0) store.outbox.acknowledge("bob", entry.stream, entry.seq);
                if (i <= 300) store.incoming.deliver("carol", "cc", static_cast<std::uint64_t>(i), "12:00:00", i, "from carol");
            }
            ::_exit(0);
        }
        int status = 0;
        CPPUNIT_ASSERT_EQUAL(child, ::waitpid(child, &status, 0));
        CPPUNIT_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        // The log is emptied only once it is big: opening it again has records to look at.
        struct stat redo {};
        CPPUNIT_ASSERT_EQUAL(0, ::stat((path + "-redo").c_str(), &redo));
        CPPUNIT_ASSERT(redo.st_size > 0);
        PeerStore store(path, 1000);
        const auto lines = store.lines.history(kBob);
        CPPUNIT_ASSERT_EQUAL(std::size_t(301), lines.size());
        for (std::size_t i = 0; i < lines.size(); ++i) {
            CPPUNIT_ASSERT_EQUAL("line " + std::to_string(i + 1), lines[i].text);
            // Every third line acks its stream up to itself.
            CPPUNIT_ASSERT(i < 300 ? lines[i].state == LineState::Delivered : lines[i].state == LineState::Pending);
        }
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), store.outbox.outbox().size());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(300), store.incoming.delivered("carol", "cc"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(300), store.lines.history(ConversationId::direct("carol")).size());
        CPPUNIT_ASSERT_EQUAL(std::uint32_t(300), store.lines.unread(ConversationId::direct("carol")));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(302), store.outbox.enqueue("bob", "alice", "12:00:01", 302, "next").seq);
    }

    // A statement that changes many pages (an ack of thousands of queued
    // lines) keeps their old content in a statement journal until it ends.
    // SQLite's default puts one past 64 KiB in a file, and with the
    // exclusive lock keeps writing every later statement's journal there:
    // twice the page writes of the write-ahead log itself (issue 12, tenth
    // step). The store keeps them in memory.
    void testBigStatementsKeepNoFileBesideTheDatabase()
    {
        TempDir dir;
        PeerStore store(dir.file("alice.db"), 10000);
        const std::string text(200, 'x');
        std::string stream;
        for (int i = 1; i <= 3000; ++i) stream = store.outbox.enqueue("bob", "alice", "12:00:00", i, text).stream;
        store.database.flush();
        CPPUNIT_ASSERT_EQUAL(std::size_t(3000), store.outbox.acknowledge("bob", stream, 3000).size());
        store.database.flush();
        for (int i = 3001; i <= 3016; ++i) store.outbox.enqueue("bob", "alice", "12:00:01", i, text);
        store.database.flush();
        const std::vector<std::string> files = sqliteTemporaryFiles();
        CPPUNIT_ASSERT_MESSAGE(files.empty() ? "" : files.front(), files.empty());
        CPPUNIT_ASSERT(store.lines.history(kBob)[2999].state == LineState::Delivered);
    }

    void testKeyFindsLineSentWithIt()
    {
        PeerStore store(100);
        CPPUNIT_ASSERT(!store.lines.lineWithKey(kBob, "k1"));
        const auto queued = store.outbox.enqueue("bob", "alice", "12:00:00", 1, "to bob", "k1");
        const auto talked = store.lines.addOutgoing(ConversationId::direct("seed"), "alice", "12:00:01", 2, "to a seed", "k2");
        store.outbox.enqueue("bob", "alice", "12:00:02", 3, "without a key");
        store.outbox.acknowledge("bob", queued.stream, 1);
        const auto line = store.lines.lineWithKey(kBob, "k1");
        CPPUNIT_ASSERT(line);
        CPPUNIT_ASSERT_EQUAL(queued.lineId, line->id);
        CPPUNIT_ASSERT_EQUAL(std::string("to bob"), line->text);
        CPPUNIT_ASSERT(line->state == LineState::Delivered);
        CPPUNIT_ASSERT_EQUAL(talked.id, store.lines.lineWithKey(ConversationId::direct("seed"), "k2")->id);
        CPPUNIT_ASSERT(store.lines.lineWithKey(ConversationId::direct("seed"), "k2")->state == LineState::Sent);
        CPPUNIT_ASSERT(!store.lines.lineWithKey(kBob, "k2"));
    }

    void testKeyIsUniquePerConversation()
    {
        PeerStore store(100);
        store.outbox.enqueue("bob", "alice", "12:00:00", 1, "to bob", "k");
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), store.outbox.enqueue("carol", "alice", "12:00:01", 2, "to carol", "k").lineId);
        CPPUNIT_ASSERT_THROW(store.outbox.enqueue("bob", "alice", "12:00:02", 3, "again", "k"), Poco::IOException);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), store.lines.history(kBob).size());
        CPPUNIT_ASSERT_EQUAL(std::string("to carol"), store.lines.lineWithKey(ConversationId::direct("carol"), "k")->text);
    }

    void testKeyForgottenWithItsLine()
    {
        PeerStore store(2);
        const std::string stream = store.outbox.enqueue("bob", "alice", "12:00:00", 1, "one", "k1").stream;
        store.outbox.enqueue("bob", "alice", "12:00:01", 2, "two", "k2");
        store.outbox.enqueue("bob", "alice", "12:00:02", 3, "three", "k3");
        // Queued still: the line and its key stay past the history limit.
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), store.lines.lineWithKey(kBob, "k1")->id);
        store.outbox.acknowledge("bob", stream, 1);
        store.lines.addIncoming("bob", "12:00:03", 4, "reply", true);
        CPPUNIT_ASSERT(!store.lines.lineWithKey(kBob, "k1"));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(5), store.outbox.enqueue("bob", "alice", "12:00:04", 5, "one again", "k1").lineId);
    }

    // A line waits in the outbox however many lines come after it: the
    // history limit drops it only once it is acked.
    void testQueuedLinesOutliveTheHistoryLimit()
    {
        TempDir dir;
        const std::string path = dir.file("alice.db");
        const auto ids = [](const std::vector<peerchat::local::ChatLine>& lines) {
            std::string text;
            for (const auto& line : lines) text += std::to_string(line.id) + " ";
            return text;
        };
        std::string stream;
        {
            PeerStore store(path, 2);
            for (int i = 1; i <= 5; ++i) stream = store.outbox.enqueue("bob", "alice", "12:00", i, "out " + std::to_string(i)).stream;
            store.outbox.acknowledge("bob", stream, 2);
            for (int i = 6; i <= 8; ++i) store.lines.addIncoming("bob", "12:01", i, "in " + std::to_string(i), true);
            CPPUNIT_ASSERT_EQUAL(std::string("3 4 5 7 8 "), ids(store.lines.history(kBob)));
        }
        PeerStore store(path, 2);
        CPPUNIT_ASSERT_EQUAL(std::string("3 4 5 7 8 "), ids(store.lines.history(kBob)));
        const auto queued = store.outbox.outbox();
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), queued.size());
        CPPUNIT_ASSERT_EQUAL(std::string("out 3"), queued[0].text);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(3), queued[0].seq);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(5), queued[2].seq);
        CPPUNIT_ASSERT(store.lines.history(kBob).at(0).state == LineState::Pending);
        CPPUNIT_ASSERT(store.lines.setState(kBob, 3, LineState::Failed));
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), store.outbox.acknowledge("bob", stream, 5).size());
        for (const auto& line : store.lines.history(kBob)) {
            if (line.outgoing) CPPUNIT_ASSERT(line.state == LineState::Delivered);
        }
        CPPUNIT_ASSERT(!store.lines.setState(kBob, 3, LineState::Failed));
        store.lines.addIncoming("bob", "12:02", 9, "in 9", true);
        CPPUNIT_ASSERT_EQUAL(std::string("8 9 "), ids(store.lines.history(kBob)));
        CPPUNIT_ASSERT(store.outbox.outbox().empty());
    }

    // Rows an old peerd left in the outbox table (or its redo log adds at
    // the next open) become queued lines, a line the history limit had
    // dropped among them, numbered as they were.
    void testOutboxRowsOfAnOldPeerdBecomeQueuedLines()
    {
        TempDir dir;
        const std::string path = dir.file("alice.db");
        {
            PeerStore store(path, 100);
            store.outbox.enqueue("carol", "alice", "11:00", 1, "to carol");
        }
        leaveOldOutbox(path, "dave", 3, "dd", 7,
                       "('dave', 1, 'dd', 6, '12:00:01', 'first'), ('dave', 2, 'dd', 7, '12:00:02', 'second')");
        rawSession(path) << "INSERT INTO line (peer, id, outgoing, sender, sent_time, received_at_ms, text, state) "
                            "VALUES ('dave', 2, 1, 'alice', '12:00:02', 2, 'second', 'pending'), "
                            "('dave', 3, 0, 'dave', '12:00:03', 3, 'reply', 'received')",
            now;
        PeerStore store(path, 100);
        const auto queued = store.outbox.outbox();
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), queued.size());
        CPPUNIT_ASSERT_EQUAL(std::string("to carol"), queued[0].text);
        CPPUNIT_ASSERT_EQUAL(std::string("first"), queued[1].text);
        CPPUNIT_ASSERT_EQUAL(std::string("dd"), queued[1].stream);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(6), queued[1].seq);
        CPPUNIT_ASSERT_EQUAL(std::string("12:00:01"), queued[1].sentTime);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(7), queued[2].seq);
        const auto lines = store.lines.history(ConversationId::direct("dave"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), lines.size());
        CPPUNIT_ASSERT_EQUAL(std::string("first"), lines[0].text);
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), lines[0].from);
        CPPUNIT_ASSERT(lines[0].state == LineState::Pending);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), store.outbox.acknowledge("dave", "dd", 6).size());
        CPPUNIT_ASSERT(store.lines.history(ConversationId::direct("dave")).at(0).state == LineState::Delivered);
        CPPUNIT_ASSERT(store.lines.history(ConversationId::direct("dave")).at(1).state == LineState::Pending);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(8), store.outbox.enqueue("dave", "alice", "12:00:04", 4, "third").seq);
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), store.outbox.outbox().size());
    }

    // A peerd before schema 7 crashed with changes only in its redo log: they
    // go into its outbox table, whose rows then become queued lines.
    void testRedoLogOfAnOldPeerdIsApplied()
    {
        using namespace peerchat::store;
        TempDir dir;
        const std::string path = dir.file("alice.db");
        { PeerStore store(path, 100); }
        {
            peerchat::RedoLog log(path + "-redo");
            std::uint64_t seq = 0;
            for (std::uint64_t id = 1; id <= 4; ++id) {
                const std::string text = "line " + std::to_string(id);
                log.append(++seq, peerchat::StoreChangeCodec::encode(peerchat::StoreChange{
                                      PutLine{"bob", id, true, "alice", "12:00", 1, text, "pending", true, ""},
                                      PutConversation{"bob", id, 0}, PutOutgoingStream{"bob", "bb", id},
                                      PutOutbox{"bob", id, "bb", id, "12:00", text}}));
            }
            log.append(++seq, peerchat::StoreChangeCodec::encode(peerchat::StoreChange{
                                  SetLineStates{"bob", 1, 2, "delivered"}, DropAckedOutbox{"bob", "bb", 2, 2}}));
            log.append(++seq, peerchat::StoreChangeCodec::encode(peerchat::StoreChange{TrimLines{"bob", 1}}));
        }
        PeerStore store(path, 100);
        const auto lines = store.lines.history(kBob);
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), lines.size());
        CPPUNIT_ASSERT(lines[0].id == 2 && lines[0].state == LineState::Delivered);
        CPPUNIT_ASSERT(lines[1].state == LineState::Pending && lines[2].state == LineState::Pending);
        const auto queued = store.outbox.outbox();
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), queued.size());
        CPPUNIT_ASSERT_EQUAL(std::string("line 3"), queued[0].text);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(3), queued[0].seq);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(4), queued[1].seq);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(5), store.outbox.enqueue("bob", "alice", "12:01", 5, "line 5").seq);
    }

    // A power cut kept a change of the log's second file and lost the one
    // before it: what follows the hole stays out of the database.
    void testChangesAfterAHoleInTheRedoLogAreLeftOut()
    {
        using namespace peerchat::store;
        TempDir dir;
        const std::string path = dir.file("alice.db");
        { PeerStore store(path, 100); }
        Poco::Int64 applied = 0;
        {
            Poco::Data::Session session("SQLite", path);
            session << "SELECT applied FROM redo", into(applied), now;
        }
        const auto received = [](std::uint64_t id) {
            return peerchat::StoreChangeCodec::encode(peerchat::StoreChange{
                PutLine{"carol", id, false, "carol", "12:00", 1, "line " + std::to_string(id), "received", true, ""},
                PutConversation{"carol", id, id}});
        };
        const auto seq = static_cast<std::uint64_t>(applied);
        {
            peerchat::RedoLog log(path + "-redo");
            log.append(seq + 1, received(1));
            log.append(seq + 2, received(2));
        }
        {
            peerchat::RedoLog later(dir.file("later"));
            later.append(seq + 4, received(4));
        }
        std::filesystem::rename(dir.file("later"), path + "-redo2");
        PeerStore store(path, 100);
        const auto lines = store.lines.history(ConversationId::direct("carol"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), lines.size());
        CPPUNIT_ASSERT_EQUAL(std::string("line 2"), lines[1].text);
    }

    void testOutboxRowsOutOfOrderGoInANewStream()
    {
        TempDir dir;
        const std::string path = dir.file("alice.db");
        { PeerStore store(path, 100); }
        leaveOldOutbox(path, "erin", 2, "ee", 3, "('erin', 1, 'ee', 1, '12:00:01', 'one'), ('erin', 2, 'ee', 3, '12:00:02', 'two')");
        PeerStore store(path, 100);
        const auto queued = store.outbox.outbox();
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), queued.size());
        CPPUNIT_ASSERT(queued[0].stream != "ee");
        CPPUNIT_ASSERT_EQUAL(queued[0].stream, queued[1].stream);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), queued[0].seq);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(2), queued[1].seq);
        CPPUNIT_ASSERT_EQUAL(std::string("two"), queued[1].text);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(PeerStoreTest);
