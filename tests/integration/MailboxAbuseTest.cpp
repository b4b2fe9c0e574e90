// The offline mailbox under abuse: one logged-in user posting maximum-size
// letters as fast as indexd answers, to names that never registered and to
// names that did; each limit of the mailbox's budget answered with its
// reason; old letters expiring; indexd's disk filling up and being freed.
// The real indexd on loopback, driven by SecureClient, which speaks
// peerchat/2 from common/'s codec and crypto only.
#include "DaemonProcess.h"
#include "SecureClient.h"
#include "TempDir.h"
#include "TmpfsMount.h"

#include "OfflineBox.h"

#include <cppunit/extensions/HelperMacros.h>

#include <Poco/File.h>

#include <cstdio>
#include <map>
#include <memory>

using namespace peerchat;
using peerchat::test::DaemonProcess;
using peerchat::test::SecureClient;
using peerchat::test::TmpfsMount;
using std::chrono::milliseconds;

namespace {

// The bound the issue sets: one sender grows indexd's database by well under
// 20 MB (the defaults hold 8 MiB of boxes from one sender).
constexpr std::uint64_t kGrowthBound = 16 * 1024 * 1024;

// The text of a maximum-size line: its box is as large as any indexd takes.
const std::string kLongestText(Protocol::kMaxTextBytes, 'x');

// The inner message of a sealed reply, as its text.
std::string innerText(const SecureClient::Received& received)
{
    return received.inner ? Protocol::encode(*received.inner) : "(not sealed: " + received.bytes + ")";
}

// A stream id of the test's own for recipient number n.
std::string streamFor(std::size_t n)
{
    static const char* const kHex = "0123456789abcdef";
    std::string stream = "5e";
    for (int shift = 12; shift >= 0; shift -= 4) stream += kHex[(n >> shift) & 0xf];
    return stream;
}

std::uint64_t fileSize(const std::string& path)
{
    Poco::File file(path);
    return file.exists() ? file.getSize() : 0;
}

// The bytes indexd's database takes on disk: the file and its write-ahead log.
std::uint64_t databaseBytes(const std::string& path)
{
    return fileSize(path) + fileSize(path + "-wal");
}

// The posted letter a reply answers: "TO,STREAM,SEQ".
std::string letterOf(const Message& reply)
{
    if (const auto* stored = std::get_if<Stored>(&reply))
        return stored->to + "," + stored->stream + "," + std::to_string(stored->seq);
    if (const auto* full = std::get_if<Full>(&reply))
        return full->to + "," + full->stream + "," + std::to_string(full->seq);
    return {};
}

bool isReply(const SecureClient::Received& received)
{
    return received.inner && (std::holds_alternative<Stored>(*received.inner)
                              || std::holds_alternative<Full>(*received.inner));
}

} // namespace

class MailboxAbuseTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(MailboxAbuseTest);
    CPPUNIT_TEST(testFloodOfLongestPostsGrowsDatabaseBoundedly);
    CPPUNIT_TEST(testEachLineLimitAnsweredWithItsReason);
    CPPUNIT_TEST(testEachByteLimitAnsweredWithItsReason);
    CPPUNIT_TEST(testOldLettersExpireAndGiveTheirRoomBack);
    CPPUNIT_TEST(testFullDiskAnsweredDiskUntilSpaceIsBack);
    CPPUNIT_TEST_SUITE_END();

public:
    void tearDown() override { _indexd.reset(); }

    // The attack of issue 9: one user posts maximum-size letters as fast as
    // indexd answers (a window of posts unanswered at a time), half of them
    // to names that never registered, half to five that did.
    void testFloodOfLongestPostsGrowsDatabaseBoundedly()
    {
        startIndexd({});
        const std::vector<std::string> registered{"bob", "carol", "dave", "erin", "frank"};
        for (const auto& name : registered) registerOffline(name, SigningKey::generate());
        SecureClient mallory("mallory");
        loginSecure(mallory);
        const std::uint64_t before = databaseBytes(_database);

        constexpr std::size_t kPosts = 5000;
        constexpr std::size_t kWindow = 100;
        const std::string box = longestBox(mallory);
        std::map<std::string, std::size_t> replies;  // "stored", "full,REASON", per kind of recipient
        std::size_t answered = 0;
        const auto start = std::chrono::steady_clock::now();
        for (std::size_t n = 0; n < kPosts; ++n) {
            // Every other post goes to a name never seen, each time another.
            const bool toGhost = n % 2 == 0;
            const std::string to = toGhost ? "ghost" + std::to_string(n) : registered[(n / 2) % registered.size()];
            mallory.sendToIndex(Post{to, streamFor(toGhost ? 0 : (n / 2) % registered.size() + 1), n + 1, box});
            // At most a window of posts unanswered (100 of 8 KB fit indexd's
            // 4 MiB socket buffer); a reply that is lost does not stall it.
            while (n + 1 - answered > kWindow) {
                const auto reply = mallory.receiveMatching(isReply, milliseconds(200));
                answered += 1;
                if (reply) ++replies[kindOf(*reply->inner)];
            }
        }
        // A last post, after every other: its answer means indexd has handled them all.
        mallory.sendToIndex(Post{"bob", "ffff", 1, "marker"});
        while (true) {
            const auto reply = mallory.receiveMatching(isReply);
            CPPUNIT_ASSERT_MESSAGE("no answer to the marker; indexd log:\n" + _indexd->log(), reply);
            if (letterOf(*reply->inner) == "bob,ffff,1") break;
            ++replies[kindOf(*reply->inner)];
        }
        const auto tookMs = std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start);
        const std::uint64_t growth = databaseBytes(_database) - before;

        std::string figures = "posted " + std::to_string(kPosts) + " in " + std::to_string(tookMs.count())
                              + " ms; database grew " + std::to_string(growth) + " bytes; replies:";
        for (const auto& [kind, count] : replies) figures += " " + kind + "=" + std::to_string(count);
        std::printf("  %s\n", figures.c_str());
        CPPUNIT_ASSERT_MESSAGE(figures, growth < kGrowthBound);
        // Letters for names nobody holds are never kept, and say why.
        CPPUNIT_ASSERT_MESSAGE(figures, replies["ghost stored"] == 0);
        CPPUNIT_ASSERT_MESSAGE(figures, replies["ghost full,unknown"] > kPosts / 4);
        // Five real names hold more than one sender may leave in all.
        CPPUNIT_ASSERT_MESSAGE(figures, replies["registered full,sender"] > 0);
        CPPUNIT_ASSERT_MESSAGE(figures, replies["registered stored"] <= 2000);
        // Not one log line per refused post.
        CPPUNIT_ASSERT_MESSAGE(_indexd->log(), _indexd->countInLog("ghost") <= 10);
    }

    void testEachLineLimitAnsweredWithItsReason()
    {
        startIndexd({"--mail-pair-lines", "3", "--mail-sender-lines", "5", "--mailbox-limit", "4"});
        registerOffline("bob", SigningKey::generate());
        registerOffline("carol", SigningKey::generate());
        SecureClient alice("alice");
        SecureClient mallory("mallory");
        loginSecure(alice);
        loginSecure(mallory);

        expectAnswer(alice, "nobody", "a0", 1, "full,nobody,a0,1,unknown");
        for (std::uint64_t seq = 1; seq <= 3; ++seq)
            expectAnswer(alice, "bob", "a1", seq, "stored,bob,a1," + std::to_string(seq));
        expectAnswer(alice, "bob", "a1", 4, "full,bob,a1,4,pair");
        expectAnswer(alice, "carol", "a2", 1, "stored,carol,a2,1");
        expectAnswer(alice, "carol", "a2", 2, "stored,carol,a2,2");
        expectAnswer(alice, "carol", "a2", 3, "full,carol,a2,3,sender");
        expectAnswer(mallory, "bob", "b1", 1, "stored,bob,b1,1");
        expectAnswer(mallory, "bob", "b1", 2, "full,bob,b1,2,recipient");
        // A repeat of a letter held is answered stored, however full.
        expectAnswer(alice, "bob", "a1", 2, "stored,bob,a1,2");
    }

    void testEachByteLimitAnsweredWithItsReason()
    {
        // About two maximum-size boxes per pair, three per sender, four in all.
        const std::size_t box = longestBox(SecureClient("probe")).size();
        startIndexd({"--mail-pair-bytes", std::to_string(2 * box + 10), "--mail-sender-bytes",
                     std::to_string(3 * box + 10), "--mailbox-bytes", std::to_string(4 * box + 10)});
        for (const std::string name : {"bob", "carol", "dave"}) registerOffline(name, SigningKey::generate());
        SecureClient alice("alice");
        SecureClient mallory("mallory");
        loginSecure(alice);
        loginSecure(mallory);

        expectAnswer(alice, "bob", "a1", 1, "stored,bob,a1,1");
        expectAnswer(alice, "bob", "a1", 2, "stored,bob,a1,2");
        expectAnswer(alice, "bob", "a1", 3, "full,bob,a1,3,pair");
        expectAnswer(alice, "carol", "a2", 1, "stored,carol,a2,1");
        expectAnswer(alice, "carol", "a2", 2, "full,carol,a2,2,sender");
        expectAnswer(mallory, "carol", "b1", 1, "stored,carol,b1,1");
        expectAnswer(mallory, "dave", "b2", 1, "full,dave,b2,1,disk");
    }

    void testOldLettersExpireAndGiveTheirRoomBack()
    {
        startIndexd({"--mail-expire-ms", "3000", "--mail-pair-lines", "1"});
        const SigningKey bobKey = SigningKey::generate();
        registerOffline("bob", bobKey);
        SecureClient alice("alice");
        loginSecure(alice);
        expectAnswer(alice, "bob", "a1", 1, "stored,bob,a1,1");
        expectAnswer(alice, "bob", "a1", 2, "full,bob,a1,2,pair");

        CPPUNIT_ASSERT_MESSAGE(_indexd->log(), _indexd->waitForLog("expired 1 offline letters"));
        // The room it took is alice's again.
        expectAnswer(alice, "bob", "a1", 2, "stored,bob,a1,2");
        // bob's first letter is the second line: the first went.
        SecureClient bob("bob", bobKey);
        loginSecure(bob);
        const auto mail = bob.receiveInner("mail");
        CPPUNIT_ASSERT_MESSAGE(_indexd->log(), mail);
        const Mail& letter = std::get<Mail>(*mail->inner);
        CPPUNIT_ASSERT_EQUAL(std::string("alice,a1,2"),
                             letter.from + "," + letter.stream + "," + std::to_string(letter.seq));
    }

    void testFullDiskAnsweredDiskUntilSpaceIsBack()
    {
        TmpfsMount disk(16 * 1024 * 1024);
        _database = disk.file("indexd.db");
        startIndexd({});
        const SigningKey bobKey = SigningKey::generate();
        registerOffline("bob", bobKey);
        SecureClient alice("alice");
        loginSecure(alice);
        const std::string box = longestBox(alice);
        expectAnswer(alice, "bob", "a1", 1, "stored,bob,a1,1");

        disk.fill();
        // What the write-ahead log had room for is kept; then the disk is full.
        std::uint64_t seq = 2;
        std::string answer;
        for (; seq < 100 && answer.find("full") != 0; ++seq) answer = answerTo(alice, Post{"bob", "a1", seq, box});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(_indexd->log(), "full,bob,a1," + std::to_string(seq - 1) + ",disk", answer);
        const std::uint64_t firstRefused = seq - 1;
        // Posts as fast as they come: each answered, none logged.
        const std::size_t logLines = _indexd->countInLog("\n");
        for (std::uint64_t more = 0; more < 200; ++more) alice.sendToIndex(Post{"bob", "a1", seq + more, box});
        for (std::uint64_t more = 0; more < 200; ++more) {
            const auto reply = alice.receiveMatching(isReply);
            CPPUNIT_ASSERT_MESSAGE(_indexd->log(), reply);
            CPPUNIT_ASSERT_EQUAL(std::string("full,bob,a1," + std::to_string(seq + more) + ",disk"),
                                 innerText(*reply));
        }
        CPPUNIT_ASSERT_MESSAGE(_indexd->log(), _indexd->countInLog("\n") <= logLines + 2);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(_indexd->log(), std::size_t(1),
                                     _indexd->countInLog("the offline mailbox cannot write to its database"));

        // Space is back: the same indexd keeps the next post, and bob gets what was kept.
        disk.release();
        expectAnswer(alice, "bob", "a1", firstRefused, "stored,bob,a1," + std::to_string(firstRefused));
        CPPUNIT_ASSERT_MESSAGE(_indexd->log(), _indexd->waitForLog("writes to its database again"));
        SecureClient bob("bob", bobKey);
        loginSecure(bob);
        std::vector<std::uint64_t> seqs;
        while (seqs.size() < firstRefused) {
            const auto mail = bob.receiveInner("mail");
            CPPUNIT_ASSERT_MESSAGE(_indexd->log(), mail);
            seqs.push_back(std::get<Mail>(*mail->inner).seq);
        }
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), seqs.front());
        CPPUNIT_ASSERT_EQUAL(firstRefused, seqs.back());
        CPPUNIT_ASSERT(_indexd->running());
        // Before the filesystem goes.
        _indexd.reset();
    }

private:
    void startIndexd(std::vector<std::string> extra)
    {
        std::vector<std::string> args{"--port", "0", "--bind", "127.0.0.1", "--database", _database,
                                      "--key", _dir.file("indexd.key")};
        args.insert(args.end(), extra.begin(), extra.end());
        _indexd = std::make_unique<DaemonProcess>("indexd", args);
        _indexd->start();
        _index = _indexd->waitReady()["udp"];
    }

    void loginSecure(SecureClient& client)
    {
        const auto welcome = client.login(_index);
        CPPUNIT_ASSERT_MESSAGE(client.name() + ": " + welcome.error() + "; indexd log:\n" + _indexd->log(),
                               welcome.ok());
    }

    // Logs name in with key and out again: the name is bound to the key, so
    // indexd keeps letters for it, and it is offline.
    void registerOffline(const std::string& name, const SigningKey& key)
    {
        SecureClient user(name, key);
        loginSecure(user);
        user.logout();
    }

    // A box as large as a line can make: a msg of the longest text, sealed
    // (to the sender's own key: indexd cannot tell).
    static std::string longestBox(const SecureClient& sender)
    {
        const Msg msg{"5e0000", 1, "12:00:00", sender.name(), sender.name(), kLongestText};
        return OfflineBox::seal(sender.identity(), sender.identity().publicKey(), Protocol::encode(msg));
    }

    // Posts a maximum-size letter and returns indexd's answer to it, as text.
    std::string answerTo(SecureClient& sender, const Post& post)
    {
        sender.sendToIndex(post);
        const std::string letter = post.to + "," + post.stream + "," + std::to_string(post.seq);
        const auto reply = sender.receiveMatching(
            [&](const SecureClient::Received& r) { return isReply(r) && letterOf(*r.inner) == letter; });
        CPPUNIT_ASSERT_MESSAGE("no answer to " + letter + "; indexd log:\n" + _indexd->log(), reply);
        return innerText(*reply);
    }

    void expectAnswer(SecureClient& sender, const std::string& to, const std::string& stream, std::uint64_t seq,
                      const std::string& expected)
    {
        CPPUNIT_ASSERT_EQUAL(expected, answerTo(sender, Post{to, stream, seq, longestBox(sender)}));
    }

    // What a reply to the flood says, and whether it answers a post to a ghost.
    static std::string kindOf(const Message& reply)
    {
        const std::string letter = letterOf(reply);
        const std::string who = letter.rfind("ghost", 0) == 0 ? "ghost " : "registered ";
        if (const auto* full = std::get_if<Full>(&reply))
            return who + "full," + std::string(fullReasonToken(full->reason));
        return who + "stored";
    }

    peerchat::test::TempDir _dir;
    std::string _database = _dir.file("indexd.db");
    std::unique_ptr<DaemonProcess> _indexd;
    std::string _index;
};

CPPUNIT_TEST_SUITE_REGISTRATION(MailboxAbuseTest);
