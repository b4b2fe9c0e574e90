#include "StoreChange.h"

#include <cppunit/extensions/HelperMacros.h>

#include <limits>
#include <string>
#include <string_view>

using namespace peerchat;
using namespace peerchat::store;

namespace {

// One of every operation, with values at the edges of their types.
StoreChange everyKind()
{
    return StoreChange{
        PutLine{"bob", 1, true, "alice", "12:00:00", -5, std::string_view("two\nlines\0with nul", 18), "pending", true, "k1"},
        PutLine{"bob", std::numeric_limits<std::uint64_t>::max(), false, "bob", "", 1767225600000, "", "received",
                false, ""},
        PutConversation{"bob", 300, 7},
        TrimLines{"bob", 200},
        PutOutgoingStream{"bob", "00ff00ff00ff00ff", 12},
        PutOutbox{"bob", 1, "00ff00ff00ff00ff", 12, "12:00:00", "text"},
        MoveOutbox{"bob", 1, "aa", 1},
        DropOutbox{"bob", "aa", 1},
        SetLineState{"bob", 1, "delivered"},
        PutIncomingStream{"carol", "cc", 40},
        PutKeyPin{"dave", "pinned", std::string("offered"), std::nullopt},
        PutKeyPin{"erin", "pinned", std::nullopt, std::string("accepted")},
        PutIndexKey{"127.0.0.1:9400", "key"},
        SetLineStates{"bob", 2, 900, "delivered"},
        DropAckedOutbox{"bob", "aa", 7, std::numeric_limits<std::uint64_t>::max()},
        // A view made empty by default has no data: it is written as any empty text.
        PutContact{"天涯", "asked", true, "hi, 你好", -1, "", 0, std::string_view(), 3, true},
        PutSetting{"status.text", ""},
        PutGroup{"00112233445566778899aabbccddeeff", "group,00112233445566778899aabbccddeeff,1,dGVhbQ,alice,..."},
    };
}

// Each operation's values as text, to compare changes.
std::string describe(const StoreChange& change)
{
    std::string text;
    for (const Op& op : change) {
        text += std::to_string(op.index()) + ":" + StoreChangeCodec::encode(StoreChange{op}) + "|";
    }
    return text;
}

} // namespace

class StoreChangeCodecTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(StoreChangeCodecTest);
    CPPUNIT_TEST(testEveryKindComesBackAsItWent);
    CPPUNIT_TEST(testFieldsComeBackInTheirPlaces);
    CPPUNIT_TEST(testCutShortIsRefused);
    CPPUNIT_TEST(testUnknownKindIsRefused);
    CPPUNIT_TEST(testRecordOfAnEarlierPeerdStillReads);
    CPPUNIT_TEST_SUITE_END();

public:
    void testEveryKindComesBackAsItWent()
    {
        const StoreChange change = everyKind();
        const std::string bytes = StoreChangeCodec::encode(change);
        const Parsed<StoreChange> decoded = StoreChangeCodec::decode(bytes);
        CPPUNIT_ASSERT_MESSAGE(decoded.error(), decoded.ok());
        CPPUNIT_ASSERT_EQUAL(change.size(), decoded->size());
        CPPUNIT_ASSERT_EQUAL(describe(change), describe(*decoded));
        CPPUNIT_ASSERT(StoreChangeCodec::decode("").ok());
    }

    // Kinds keep their tags: a redo log an earlier peerd left is applied by this one.
    void testRecordOfAnEarlierPeerdStillReads()
    {
        const std::string bytes("\x07\x03" "bob\x01\x09" "delivered", 16);
        const Parsed<StoreChange> old = StoreChangeCodec::decode(bytes);
        CPPUNIT_ASSERT_MESSAGE(old.error(), old.ok());
        const auto& state = std::get<SetLineState>(old->at(0));
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), std::string(state.peer));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), state.id);
        CPPUNIT_ASSERT_EQUAL(std::string("delivered"), std::string(state.state));
        CPPUNIT_ASSERT_EQUAL(std::string("\x0b\x03" "bob\x02\x84\x07\x09" "delivered", 18),
                             StoreChangeCodec::encode(StoreChange{SetLineStates{"bob", 2, 900, "delivered"}}));
    }

    void testFieldsComeBackInTheirPlaces()
    {
        const std::string bytes = StoreChangeCodec::encode(everyKind());
        const Parsed<StoreChange> decoded = StoreChangeCodec::decode(bytes);
        const auto& line = std::get<PutLine>(decoded->at(0));
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), std::string(line.peer));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), line.id);
        CPPUNIT_ASSERT(line.outgoing && line.verified);
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), std::string(line.from));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(-5), line.receivedAtMs);
        CPPUNIT_ASSERT_EQUAL(std::string("two\nlines\0with nul", 18), std::string(line.text));
        CPPUNIT_ASSERT_EQUAL(std::string("k1"), std::string(line.key));
        // The text is read in place, not copied: the record holds it.
        CPPUNIT_ASSERT(line.text.data() > bytes.data() && line.text.data() + line.text.size() <= bytes.data() + bytes.size());
        CPPUNIT_ASSERT_EQUAL(std::numeric_limits<std::uint64_t>::max(), std::get<PutLine>(decoded->at(1)).id);
        const auto& pin = std::get<PutKeyPin>(decoded->at(10));
        CPPUNIT_ASSERT(pin.offered == std::string("offered") && !pin.keyless);
        const auto& acked = std::get<DropAckedOutbox>(decoded->at(14));
        CPPUNIT_ASSERT_EQUAL(std::string("aa"), std::string(acked.stream));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(7), acked.upTo);
        CPPUNIT_ASSERT_EQUAL(std::numeric_limits<std::uint64_t>::max(), acked.lastLineId);
        const auto& accepted = std::get<PutKeyPin>(decoded->at(11));
        CPPUNIT_ASSERT(!accepted.offered && accepted.keyless == std::string("accepted"));
    }

    void testCutShortIsRefused()
    {
        const std::string bytes = StoreChangeCodec::encode(everyKind());
        for (std::size_t cut = 1; cut < bytes.size(); ++cut) {
            const Parsed<StoreChange> decoded = StoreChangeCodec::decode(std::string_view(bytes).substr(0, cut));
            // A cut between two operations leaves a shorter change that is whole; anything else is refused.
            if (decoded.ok()) {
                CPPUNIT_ASSERT_EQUAL(StoreChangeCodec::encode(*decoded), bytes.substr(0, cut));
            } else {
                CPPUNIT_ASSERT_EQUAL(std::string("a change cut short or damaged"), decoded.error());
            }
        }
    }

    void testUnknownKindIsRefused()
    {
        const Parsed<StoreChange> decoded = StoreChangeCodec::decode(std::string(1, '\x7f'));
        CPPUNIT_ASSERT(!decoded.ok());
        CPPUNIT_ASSERT_EQUAL(std::string("a change of an unknown kind"), decoded.error());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(StoreChangeCodecTest);
