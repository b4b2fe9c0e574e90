#include "StoreBatch.h"

#include <cppunit/extensions/HelperMacros.h>

#include <algorithm>
#include <deque>
#include <map>
#include <random>
#include <string>
#include <vector>

using namespace peerchat;
using namespace peerchat::store;

namespace {

// The tables of PeerStore's database, as each operation's SQL
// statement changes them; rows as the bytes of the operation that writes
// them whole, so that two databases compare as text. The rows view the text
// of the changes applied, which must outlive the tables.
class Tables
{
public:
    void apply(const Op& op)
    {
        std::visit([this](const auto& o) { write(o); }, op);
    }

    void apply(const std::vector<Op>& ops)
    {
        for (const Op& op : ops) apply(op);
    }

    std::string describe() const
    {
        std::string text = _failed ? "failed\n" : "";
        for (const auto& [key, line] : _lines) text += row(line);
        for (const PutOutbox& queued : _outbox) text += row(queued);
        for (const auto& [peer, o] : _conversations) text += row(o);
        for (const auto& [peer, o] : _outgoingStreams) text += row(o);
        for (const auto& [peer, o] : _marks) text += row(o);
        for (const auto& [key, o] : _incomingStreams) text += row(o);
        for (const auto& [name, o] : _pins) text += row(o);
        for (const auto& [endpoint, o] : _indexKeys) text += row(o);
        for (const auto& [name, o] : _contacts) text += row(o);
        for (const auto& [key, o] : _settings) text += row(o);
        for (const auto& [id, o] : _groups) text += row(o);
        return text;
    }

private:
    template <typename Row>
    static std::string row(const Row& o)
    {
        return StoreChangeCodec::encode(StoreChange{o}) + "\n";
    }

    void write(const PutLine& o)
    {
        // INSERT: a row with the same key fails the transaction.
        if (!_lines.emplace(std::make_pair(o.peer, o.id), o).second) _failed = true;
    }
    void write(const PutConversation& o) { _conversations[std::string(o.peer)] = o; }
    void write(const TrimLines& o) { write(TrimUnqueued{o.peer, o.upTo, o.upTo}); }
    void write(const TrimUnqueued& o)
    {
        const auto spared = [&](const PutLine& line) {
            return line.outgoing && line.id > o.delivered &&
                   (line.state == "pending" || line.state == "stored" || line.state == "failed");
        };
        for (auto it = _lines.begin(); it != _lines.end();) {
            const bool drop = it->first.first == o.peer && it->first.second <= o.upTo && !spared(it->second);
            it = drop ? _lines.erase(it) : std::next(it);
        }
    }
    void write(const MarkDelivered& o) { _marks[std::string(o.peer)] = o; }
    void write(const PutOutgoingStream& o) { _outgoingStreams[std::string(o.peer)] = o; }
    void write(const PutOutbox& o) { _outbox.push_back(o); }
    void write(const MoveOutbox& o)
    {
        for (PutOutbox& queued : _outbox) {
            if (queued.peer == o.peer && queued.lineId == o.lineId) {
                queued.stream = o.stream;
                queued.seq = o.seq;
            }
        }
    }
    void write(const DropOutbox& o)
    {
        _outbox.erase(std::remove_if(_outbox.begin(), _outbox.end(),
                                     [&](const PutOutbox& queued) {
                                         return queued.peer == o.peer && queued.stream == o.stream &&
                                                queued.seq <= o.upTo;
                                     }),
                      _outbox.end());
    }
    void write(const DropAckedOutbox& o)
    {
        _outbox.erase(std::remove_if(_outbox.begin(), _outbox.end(),
                                     [&](const PutOutbox& queued) {
                                         return queued.peer == o.peer && queued.lineId <= o.lastLineId &&
                                                queued.stream == o.stream && queued.seq <= o.upTo;
                                     }),
                      _outbox.end());
    }
    void write(const SetLineState& o) { write(SetLineStates{o.peer, o.id, o.id, o.state}); }
    void write(const SetLineStates& o)
    {
        for (auto& [key, line] : _lines) {
            if (key.first == o.peer && key.second >= o.firstId && key.second <= o.lastId) line.state = o.state;
        }
    }
    void write(const PutIncomingStream& o) { _incomingStreams[{std::string(o.sender), std::string(o.stream)}] = o; }
    void write(const PutKeyPin& o) { _pins[std::string(o.name)] = o; }
    void write(const PutIndexKey& o) { _indexKeys[std::string(o.endpoint)] = o; }
    void write(const PutContact& o) { _contacts[std::string(o.name)] = o; }
    void write(const PutSetting& o) { _settings[std::string(o.key)] = o; }
    void write(const PutGroup& o) { _groups[std::string(o.id)] = o; }

    bool _failed = false;
    std::map<std::pair<std::string, std::uint64_t>, PutLine> _lines;
    std::vector<PutOutbox> _outbox;
    std::map<std::string, PutConversation> _conversations;
    std::map<std::string, PutOutgoingStream> _outgoingStreams;
    std::map<std::string, MarkDelivered> _marks;
    std::map<std::string, PutContact> _contacts;
    std::map<std::string, PutSetting> _settings;
    std::map<std::string, PutGroup> _groups;
    std::map<std::pair<std::string, std::string>, PutIncomingStream> _incomingStreams;
    std::map<std::string, PutKeyPin> _pins;
    std::map<std::string, PutIndexKey> _indexKeys;
};

// The changes a peerd makes, as PeerStore makes them, at random:
// lines queued, acked and received, keys trusted anew, with a small history
// limit; each either as peerd writes it now or as the redo log of a peerd
// before schema 7 has it (with outbox rows). Each comes as its record in the
// redo log, since a change views strings that live only while it is made.
class Conversations
{
public:
    explicit Conversations(unsigned seed) : _random(seed) {}

    std::string next()
    {
        const std::string peer = pick({"bob", "carol", "dave"});
        Peer& p = _peers[peer];
        switch (std::uniform_int_distribution<int>(0, 9)(_random)) {
        case 0: case 1: case 2: case 3: return queue(peer, p);
        case 4: case 5: return receive(peer, p);
        case 6: case 7: return ack(peer, p);
        case 8: return std::uniform_int_distribution<int>(0, 3)(_random) == 0 ? trust(peer, p) : changeState(peer, p);
        default:
            return StoreChangeCodec::encode(StoreChange{PutIndexKey{pick({"127.0.0.1:1", "[::1]:2"}), pick({"k1", "k2"})}});
        }
    }

private:
    struct Queued { std::uint64_t lineId; std::uint64_t seq; };
    struct Peer
    {
        std::uint64_t lastId = 0;
        std::uint64_t unread = 0;
        std::string stream = "s0";
        std::uint64_t seq = 0;
        std::vector<Queued> outbox;
        std::uint64_t delivered = 0;  ///< the last MarkDelivered
        std::uint64_t incoming = 0;
        int keys = 0;
    };
    static constexpr std::uint64_t kHistory = 6;

    std::string pick(const std::vector<std::string>& from)
    {
        return from[std::uniform_int_distribution<std::size_t>(0, from.size() - 1)(_random)];
    }

    bool old() { return std::uniform_int_distribution<int>(0, 3)(_random) == 0; }

    // text lives while change is encoded.
    void line(StoreChange& change, const std::string& peer, Peer& p, bool outgoing, const std::string& text)
    {
        change.push_back(PutLine{peer, p.lastId, outgoing, outgoing ? "alice" : std::string_view(peer), "12:00", 5,
                                 text, outgoing ? "pending" : "received", true, ""});
        change.push_back(PutConversation{peer, p.lastId, p.unread});
        if (p.lastId <= kHistory) return;
        if (old()) {
            change.push_back(TrimLines{peer, p.lastId - kHistory});
        } else {
            change.push_back(TrimUnqueued{peer, p.lastId - kHistory, p.delivered});
        }
    }

    std::string queue(const std::string& peer, Peer& p)
    {
        const std::string text = "text " + std::to_string(++p.lastId);
        StoreChange change;
        line(change, peer, p, true, text);
        ++p.seq;
        change.push_back(PutOutgoingStream{peer, p.stream, p.seq});
        if (old()) change.push_back(PutOutbox{peer, p.lastId, p.stream, p.seq, "12:00", "text"});
        p.outbox.push_back(Queued{p.lastId, p.seq});
        return StoreChangeCodec::encode(change);
    }

    std::string receive(const std::string& peer, Peer& p)
    {
        const std::string text = "text " + std::to_string(++p.lastId);
        ++p.unread;
        StoreChange change{PutIncomingStream{peer, "in", ++p.incoming}};
        line(change, peer, p, false, text);
        return StoreChangeCodec::encode(change);
    }

    // Runs of consecutive ids in one operation each (now only for Sent),
    // then the mark, or the outbox rows out.
    std::string ack(const std::string& peer, Peer& p)
    {
        if (p.outbox.empty()) return StoreChangeCodec::encode(StoreChange{PutConversation{peer, p.lastId, p.unread = 0}});
        const std::size_t count = std::uniform_int_distribution<std::size_t>(1, p.outbox.size())(_random);
        const std::string state = pick({"sent", "delivered"});
        const bool legacy = old();
        StoreChange change;
        for (std::size_t i = 0; i < count && (legacy || state == "sent"); ++i) {
            const std::uint64_t id = p.outbox[i].lineId;
            auto* run = change.empty() ? nullptr : std::get_if<SetLineStates>(&change.back());
            if (run != nullptr && run->lastId + 1 == id) {
                run->lastId = id;
            } else {
                change.push_back(SetLineStates{peer, id, id, state});
            }
        }
        if (!legacy) {
            p.delivered = p.outbox[count - 1].lineId;
            change.push_back(MarkDelivered{peer, p.delivered});
        } else if (old()) {
            change.push_back(DropOutbox{peer, p.stream, p.outbox[count - 1].seq});
        } else {
            change.push_back(DropAckedOutbox{peer, p.stream, p.outbox[count - 1].seq, p.outbox[count - 1].lineId});
        }
        p.outbox.erase(p.outbox.begin(), p.outbox.begin() + static_cast<std::ptrdiff_t>(count));
        return StoreChangeCodec::encode(change);
    }

    std::string changeState(const std::string& peer, Peer& p)
    {
        if (p.lastId == 0) return StoreChangeCodec::encode(StoreChange{});
        const std::uint64_t id = std::uniform_int_distribution<std::uint64_t>(1, p.lastId)(_random);
        const std::string state = pick({"failed", "stored"});
        if (old()) return StoreChangeCodec::encode(StoreChange{SetLineState{peer, id, state}});
        return StoreChangeCodec::encode(StoreChange{SetLineStates{peer, id, id, state}});
    }

    std::string trust(const std::string& peer, Peer& p)
    {
        ++p.keys;
        p.stream = "s" + std::to_string(p.keys);
        p.seq = 0;
        StoreChange change{PutKeyPin{peer, "key" + std::to_string(p.keys), std::nullopt, std::nullopt},
                           PutOutgoingStream{peer, p.stream, p.outbox.size()}};
        const bool legacy = old();
        for (Queued& queued : p.outbox) {
            queued.seq = ++p.seq;
            if (legacy) change.push_back(MoveOutbox{peer, queued.lineId, p.stream, queued.seq});
        }
        return StoreChangeCodec::encode(change);
    }

    std::mt19937 _random;
    std::map<std::string, Peer> _peers;
};

std::size_t countOf(const std::vector<Op>& ops, std::size_t kind)
{
    return static_cast<std::size_t>(
        std::count_if(ops.begin(), ops.end(), [&](const Op& op) { return op.index() == kind; }));
}

template <typename Kind>
std::size_t count(const std::vector<Op>& ops)
{
    return countOf(ops, Op(Kind{}).index());
}

std::vector<Op> folded(const std::vector<StoreChange>& changes)
{
    StoreBatch batch;
    for (const StoreChange& change : changes) batch.add(change);
    std::vector<Op> ops;
    batch.drain([&](const Op& op) { ops.push_back(op); }, [] {});
    return ops;
}

} // namespace

class StoreBatchTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(StoreBatchTest);
    CPPUNIT_TEST(testLinesAckedInTheirBatchLeaveOnlyTheLastMark);
    CPPUNIT_TEST(testOutboxRowsOfAnOldPeerdQueuedAndAckedInOneBatchAreNotWritten);
    CPPUNIT_TEST(testTrimWaitsForTheEndUnlessALineItDeletesComesAfter);
    CPPUNIT_TEST(testTrimGoesBeforeAStateChange);
    CPPUNIT_TEST(testTrimsMergeOnlyWhenTheLaterSparesNoMore);
    CPPUNIT_TEST(testAMovedOutboxRowStays);
    CPPUNIT_TEST(testFoldedBatchesLeaveTheTablesAsTheChangesDo);
    CPPUNIT_TEST_SUITE_END();

public:
    void testLinesAckedInTheirBatchLeaveOnlyTheLastMark()
    {
        std::vector<StoreChange> changes;
        for (std::uint64_t id = 1; id <= 3; ++id) {
            changes.push_back(StoreChange{PutLine{"bob", id, true, "alice", "12:00", 1, "hi", "pending", true, ""},
                                          PutConversation{"bob", id, 0}, PutOutgoingStream{"bob", "s", id}});
        }
        changes.push_back(StoreChange{MarkDelivered{"bob", 2}});
        changes.push_back(StoreChange{MarkDelivered{"bob", 3}});
        const std::vector<Op> ops = folded(changes);
        CPPUNIT_ASSERT_EQUAL(std::size_t{3}, count<PutLine>(ops));
        CPPUNIT_ASSERT_EQUAL(std::size_t{1}, count<PutConversation>(ops));
        CPPUNIT_ASSERT_EQUAL(std::size_t{1}, count<PutOutgoingStream>(ops));
        CPPUNIT_ASSERT_EQUAL(std::size_t{1}, count<MarkDelivered>(ops));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t{3}, std::get<MarkDelivered>(ops.back()).lineId);
        CPPUNIT_ASSERT_EQUAL(std::size_t{6}, ops.size());
    }

    void testOutboxRowsOfAnOldPeerdQueuedAndAckedInOneBatchAreNotWritten()
    {
        std::vector<StoreChange> changes;
        for (std::uint64_t id = 1; id <= 3; ++id) {
            changes.push_back(StoreChange{PutLine{"bob", id, true, "alice", "12:00", 1, "hi", "pending", true, ""},
                                          PutConversation{"bob", id, 0}, PutOutgoingStream{"bob", "s", id},
                                          PutOutbox{"bob", id, "s", id, "12:00", "hi"}});
        }
        changes.push_back(StoreChange{SetLineStates{"bob", 1, 3, "delivered"}, DropOutbox{"bob", "s", 3}});
        const std::vector<Op> ops = folded(changes);
        CPPUNIT_ASSERT_EQUAL(std::size_t{3}, count<PutLine>(ops));
        CPPUNIT_ASSERT_EQUAL(std::size_t{0}, count<PutOutbox>(ops));
        CPPUNIT_ASSERT_EQUAL(std::size_t{1}, count<SetLineStates>(ops));
        CPPUNIT_ASSERT_EQUAL(std::size_t{1}, count<PutConversation>(ops));
        CPPUNIT_ASSERT_EQUAL(std::size_t{1}, count<PutOutgoingStream>(ops));
        // Rows of the stream queued in an earlier batch still go.
        CPPUNIT_ASSERT_EQUAL(std::size_t{1}, count<DropOutbox>(ops));
        CPPUNIT_ASSERT_EQUAL(std::size_t{7}, ops.size());
    }

    void testTrimWaitsForTheEndUnlessALineItDeletesComesAfter()
    {
        const PutLine seven{"bob", 7, true, "alice", "12:00", 1, "hi", "pending", true, ""};
        std::vector<Op> ops = folded({StoreChange{TrimUnqueued{"bob", 3, 3}}, StoreChange{TrimLines{"bob", 5}},
                                      StoreChange{seven}});
        CPPUNIT_ASSERT_EQUAL(std::size_t{2}, ops.size());
        CPPUNIT_ASSERT(std::holds_alternative<PutLine>(ops[0]));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t{5}, std::get<TrimUnqueued>(ops[1]).upTo);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t{5}, std::get<TrimUnqueued>(ops[1]).delivered);

        ops = folded({StoreChange{TrimUnqueued{"bob", 8, 8}}, StoreChange{seven}});
        Tables tables;
        tables.apply(ops);
        CPPUNIT_ASSERT_MESSAGE("line 7, put after the trim, stays", tables.describe().find("hi") != std::string::npos);
    }

    // A queued line the trim spares may be one it deletes once it is sent.
    void testTrimGoesBeforeAStateChange()
    {
        const std::vector<Op> ops =
            folded({StoreChange{TrimUnqueued{"bob", 5, 2}}, StoreChange{SetLineStates{"bob", 3, 4, "sent"}}});
        CPPUNIT_ASSERT_EQUAL(std::size_t{2}, ops.size());
        CPPUNIT_ASSERT(std::holds_alternative<TrimUnqueued>(ops[0]));
        CPPUNIT_ASSERT(std::holds_alternative<SetLineStates>(ops[1]));
    }

    void testTrimsMergeOnlyWhenTheLaterSparesNoMore()
    {
        std::vector<Op> ops = folded({StoreChange{TrimUnqueued{"bob", 5, 4}}, StoreChange{TrimUnqueued{"bob", 6, 4}},
                                      StoreChange{TrimUnqueued{"bob", 7, 6}}});
        CPPUNIT_ASSERT_EQUAL(std::size_t{1}, ops.size());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t{7}, std::get<TrimUnqueued>(ops[0]).upTo);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t{6}, std::get<TrimUnqueued>(ops[0]).delivered);

        ops = folded({StoreChange{TrimLines{"bob", 6}}, StoreChange{TrimUnqueued{"bob", 7, 4}}});
        CPPUNIT_ASSERT_EQUAL(std::size_t{2}, ops.size());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t{6}, std::get<TrimUnqueued>(ops[0]).delivered);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t{4}, std::get<TrimUnqueued>(ops[1]).delivered);
    }

    void testAMovedOutboxRowStays()
    {
        const std::vector<Op> ops = folded({
            StoreChange{PutOutbox{"bob", 1, "old", 1, "12:00", "hi"}},
            StoreChange{MoveOutbox{"bob", 1, "new", 1}},
            StoreChange{DropOutbox{"bob", "old", 1}},
        });
        CPPUNIT_ASSERT_EQUAL(std::size_t{3}, ops.size());
        CPPUNIT_ASSERT_EQUAL(std::size_t{1}, count<PutOutbox>(ops));
    }

    // The tables after a folded batch are those after its changes one by one,
    // from a database that already holds what earlier batches wrote.
    void testFoldedBatchesLeaveTheTablesAsTheChangesDo()
    {
        std::size_t before = 0;
        std::size_t after = 0;
        for (unsigned seed = 1; seed <= 300; ++seed) {
            Conversations peerd(seed);
            // The records outlive both tables, whose rows view them.
            std::deque<std::string> records;
            Tables one;
            Tables all;
            std::mt19937 sizes(seed);
            for (int batch = 0; batch < 8; ++batch) {
                std::vector<StoreChange> changes(std::uniform_int_distribution<std::size_t>(1, 40)(sizes));
                for (StoreChange& change : changes) {
                    change = StoreChangeCodec::decode(records.emplace_back(peerd.next())).value();
                    one.apply(change);
                    before += change.size();
                }
                const std::vector<Op> ops = folded(changes);
                after += ops.size();
                all.apply(ops);
                CPPUNIT_ASSERT_EQUAL_MESSAGE("seed " + std::to_string(seed) + ", batch " + std::to_string(batch),
                                             one.describe(), all.describe());
            }
        }
        CPPUNIT_ASSERT_MESSAGE("folding takes operations out", after < before * 3 / 4);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(StoreBatchTest);
