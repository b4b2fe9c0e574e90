#include "TypingModel.h"

#include <cppunit/extensions/HelperMacros.h>

#include <chrono>

using peerchat::ConversationId;
using peerchat::chatui::TypingModel;
namespace local = peerchat::local;
using namespace std::chrono_literals;

namespace {

/// A clock turned by hand: the model only ever sees the times it is given.
const TypingModel::Clock::time_point kStart = TypingModel::Clock::time_point() + 1000s;

local::MessageEvent message(const std::string& peer, const std::string& from)
{
    local::ChatLine line;
    line.id = 1;
    line.conversation = ConversationId::direct(peer);
    line.from = from;
    line.outgoing = from == "alice";
    line.text = "hi";
    return local::MessageEvent{line};
}

} // namespace

class TypingModelTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(TypingModelTest);
    CPPUNIT_TEST(testNoticeShowsTyping);
    CPPUNIT_TEST(testTypingExpiresFiveSecondsAfterLastNotice);
    CPPUNIT_TEST(testLaterNoticeExtendsTyping);
    CPPUNIT_TEST(testLineFromPeerEndsTyping);
    CPPUNIT_TEST(testOwnLineDoesNotEndTyping);
    CPPUNIT_TEST(testOtherPeersNoticeIsNotThisWindows);
    CPPUNIT_TEST(testOtherEventsChangeNothing);
    CPPUNIT_TEST_SUITE_END();

public:
    void testNoticeShowsTyping()
    {
        TypingModel model("bob");
        CPPUNIT_ASSERT(!model.typing(kStart));
        CPPUNIT_ASSERT(!model.endsAt(kStart));
        CPPUNIT_ASSERT(model.apply(local::TypingEvent{"bob"}, kStart));
        CPPUNIT_ASSERT(model.typing(kStart));
        CPPUNIT_ASSERT(model.endsAt(kStart) == kStart + 5s);
    }

    void testTypingExpiresFiveSecondsAfterLastNotice()
    {
        TypingModel model("bob");
        model.apply(local::TypingEvent{"bob"}, kStart);
        CPPUNIT_ASSERT(model.typing(kStart + 4999ms));
        CPPUNIT_ASSERT(model.endsAt(kStart + 4999ms) == kStart + 5s);
        CPPUNIT_ASSERT(!model.typing(kStart + 5s));
        CPPUNIT_ASSERT(!model.endsAt(kStart + 5s));
        CPPUNIT_ASSERT(!model.typing(kStart + 1h));
    }

    void testLaterNoticeExtendsTyping()
    {
        TypingModel model("bob");
        model.apply(local::TypingEvent{"bob"}, kStart);
        // Still shown: the notice changes when it ends, not whether it shows.
        CPPUNIT_ASSERT(!model.apply(local::TypingEvent{"bob"}, kStart + 3s));
        CPPUNIT_ASSERT(model.typing(kStart + 7s));
        CPPUNIT_ASSERT(model.endsAt(kStart + 7s) == kStart + 8s);
        CPPUNIT_ASSERT(!model.typing(kStart + 8s));
        // Once run out, a new notice shows it again.
        CPPUNIT_ASSERT(model.apply(local::TypingEvent{"bob"}, kStart + 20s));
        CPPUNIT_ASSERT(model.typing(kStart + 24s));
    }

    void testLineFromPeerEndsTyping()
    {
        TypingModel model("bob");
        model.apply(local::TypingEvent{"bob"}, kStart);
        CPPUNIT_ASSERT(model.apply(message("bob", "bob"), kStart + 1s));
        CPPUNIT_ASSERT(!model.typing(kStart + 1s));
        CPPUNIT_ASSERT(!model.endsAt(kStart + 1s));
        // The next notice shows it again.
        CPPUNIT_ASSERT(model.apply(local::TypingEvent{"bob"}, kStart + 2s));
        CPPUNIT_ASSERT(model.typing(kStart + 2s));
    }

    void testOwnLineDoesNotEndTyping()
    {
        TypingModel model("bob");
        model.apply(local::TypingEvent{"bob"}, kStart);
        // alice's own line, and carol's in another conversation, say nothing of bob.
        CPPUNIT_ASSERT(!model.apply(message("bob", "alice"), kStart + 1s));
        CPPUNIT_ASSERT(!model.apply(message("carol", "carol"), kStart + 1s));
        CPPUNIT_ASSERT(model.typing(kStart + 1s));
    }

    void testOtherPeersNoticeIsNotThisWindows()
    {
        TypingModel model("bob");
        CPPUNIT_ASSERT(!model.apply(local::TypingEvent{"carol"}, kStart));
        CPPUNIT_ASSERT(!model.typing(kStart));
        CPPUNIT_ASSERT(!model.endsAt(kStart));
        // Nor does it keep bob's own notice going.
        model.apply(local::TypingEvent{"bob"}, kStart);
        model.apply(local::TypingEvent{"carol"}, kStart + 4s);
        CPPUNIT_ASSERT(!model.typing(kStart + 5s));
    }

    void testOtherEventsChangeNothing()
    {
        TypingModel model("bob");
        model.apply(local::TypingEvent{"bob"}, kStart);
        CPPUNIT_ASSERT(!model.apply(local::UnreadEvent{ConversationId::direct("bob"), 1}, kStart));
        CPPUNIT_ASSERT(!model.apply(local::StatusEvent{ConversationId::direct("bob"), 1, local::LineState::Delivered}, kStart));
        local::UserInfo bob;
        bob.name = "bob";
        CPPUNIT_ASSERT(!model.apply(local::PresenceEvent{bob, true}, kStart));
        CPPUNIT_ASSERT(model.typing(kStart + 1s));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(TypingModelTest);
