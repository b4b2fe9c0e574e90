// Rows 1, 2, 8 and 9 of issue 9: what indexd offers, used against it: the
// offline mailbox, legacy logins, the seed roster port, logging in and out.
#include "BenchStats.h"
#include "Crowd.h"
#include "DaemonWatch.h"
#include "IdleConnections.h"
#include "MailCarrier.h"
#include "PacketCapture.h"
#include "RawFlooder.h"
#include "Scenario.h"
#include "SeedCrowd.h"
#include "UdpTrafficCounter.h"

#include "RosterCodec.h"
#include "SignedStatement.h"

#include <Poco/Net/StreamSocket.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <sys/stat.h>
#include <thread>

using namespace std::chrono_literals;

namespace peerchat::stress {

namespace {

// Bounds of the issue.
constexpr double kMailboxBytesPer30s = 20e6;
constexpr double kLegacyAmplification = 10;
// Users online for the churn scenario, as in the issue: the churner's mutual contacts.
constexpr std::size_t kCrowd = 1000;
// Seed users online for the roster scenario, with SeedCrowd's 32-byte
// names: a seed roster of about 98 KB, more than a stalled connection
// (IdleConnections) takes in.
constexpr std::size_t kSeedCrowd = 2000;
// Logged in for longer than any scenario: the crowd sends no heartbeats.
const std::vector<std::string> kNoExpiry{"--expire-ms", "3600000"};

// The bytes of a SQLite database and its write-ahead log.
std::uint64_t databaseBytes(const std::string& database)
{
    std::uint64_t bytes = 0;
    for (const char* suffix : {"", "-wal"}) {
        struct stat info{};
        if (::stat((database + suffix).c_str(), &info) == 0) bytes += static_cast<std::uint64_t>(info.st_size);
    }
    return bytes;
}

// What indexd answered a post with: "stored", "full,REASON", or the verb of anything else.
std::string answerTo(const test::SecureClient::Received& received)
{
    if (received.inner) {
        if (std::holds_alternative<Stored>(*received.inner)) return "stored";
        if (const auto* full = std::get_if<Full>(&*received.inner)) {
            const std::string_view reason = fullReasonToken(full->reason);
            return "full," + (reason.empty() ? std::string("(no reason)") : std::string(reason));
        }
        return std::string(Protocol::verb(*received.inner));
    }
    return received.message ? std::string(Protocol::verb(*received.message)) : "undecodable";
}

// The first `fields` comma-separated fields of text.
std::string firstFields(const std::string& text, int fields)
{
    std::size_t from = 0;
    for (int i = 0; i < fields; ++i) {
        const std::size_t comma = text.find(',', from);
        if (comma == std::string::npos) return text;
        from = comma + 1;
    }
    return text.substr(0, from - 1);
}

// Threads that loop until over is set; set and joined however the scenario ends.
struct Background
{
    std::atomic<bool> over{false};
    std::vector<std::thread> threads;

    ~Background() { stop(); }
    void stop()
    {
        over = true;
        for (std::thread& thread : threads) {
            if (thread.joinable()) thread.join();
        }
    }
};

std::string listed(const std::map<std::string, std::uint64_t>& counts)
{
    std::string text;
    for (const auto& [what, n] : counts) text += (text.empty() ? "" : ", ") + what + " " + Report::count(n);
    return text.empty() ? "none" : text;
}

// Row 1: mallory, logged in, posts offline mail of the largest size as
// fast as indexd answers (up to kWindow unanswered), by turns to names
// nobody registered and to carol, who registered and is offline.
void mailboxFlood(const StressContext& context, Report& report)
{
    constexpr std::uint64_t kWindow = 64;
    test::ChatNetwork net;
    // indexd takes carol's logout before mallory's hello, which comes after it.
    Crowd::logIn(net, "carol")->logout();
    auto mallory = Crowd::logIn(net, "mallory");
    DaemonWatch indexd(net.indexd());
    const std::uint64_t databaseBefore = databaseBytes(net.indexDatabase());
    const std::uint64_t logBefore = indexd.logBytes();
    const std::string box = RawFlooder::garbage(1, MailCarrier::kMaxBoxBytes).front();

    std::map<std::string, std::uint64_t> answers;
    std::uint64_t posts = 0;
    std::uint64_t waiting = 0;
    std::uint64_t unanswered = 0;
    const auto start = StressContext::Clock::now();
    const auto end = start + context.flood();
    auto nextHeartbeat = start + 5s;
    for (auto now = start; now < end && !StressContext::stopping(); now = StressContext::Clock::now()) {
        if (waiting < kWindow) {
            const std::string to = posts % 2 == 0 ? "nobody" + std::to_string(posts / 2 % 1000) : "carol";
            mallory->sendToIndex(Post{to, "5afe", posts + 1, box});
            ++posts;
            ++waiting;
        }
        if (const auto received = mallory->receive(waiting < kWindow ? 0ms : 200ms)) {
            const std::string answer = answerTo(*received);
            ++answers[answer];
            if (waiting > 0 && (answer == "stored" || answer.rfind("full", 0) == 0)) --waiting;
        } else if (waiting >= kWindow) {
            // Nothing for 200 ms: indexd dropped those posts.
            unanswered += waiting;
            waiting = 0;
        }
        if (now >= nextHeartbeat) {
            mallory->sendToIndex(Alive{"mallory", 0});
            nextHeartbeat = now + 5s;
        }
    }
    const double seconds = StressContext::secondsSince(start);
    while (const auto received = mallory->receive(500ms)) ++answers[answerTo(*received)];
    const std::uint64_t growth = databaseBytes(net.indexDatabase()) - databaseBefore;

    const std::uint64_t perSecond = std::uint64_t(double(posts) / seconds);
    report.figure("posts", Report::count(posts) + " of " + Report::count(box.size()) + "-byte boxes in " +
                               Report::duration(seconds) + " (" + Report::count(perSecond) + "/s)");
    report.figure("answers", listed(answers));
    report.figure("posts indexd did not answer in time", Report::count(unanswered));
    report.figure("database growth (db + wal)", Report::megabytesPer30s(double(growth), seconds));
    report.figure("indexd log growth", Report::megabytes(double(indexd.logBytes() - logBefore)));
    const double per30s = StressContext::per30s(double(growth), seconds);
    report.bound("mailbox growth from one sender under 20 MB per 30 s", per30s < kMailboxBytesPer30s,
                 Report::megabytes(per30s) + " per 30 s");
}

// Row 2: seed logins from random forged sources at 200/s, each naming its
// forged source as its endpoint, in legacy mode with alice and bob online.
void legacyAmplification(const StressContext& context, Report& report)
{
    test::ChatNetwork net(test::ChatNetwork::Wire::Legacy);
    net.startPeerd("alice");
    net.startPeerd("bob");
    auto alice = net.attachOnline("alice");
    auto bob = net.attachOnline("bob");
    if (!test::befriend(*alice, "alice", *bob, "bob")) throw std::runtime_error("alice and bob do not see each other");
    DaemonWatch indexd(net.indexd());
    const std::uint64_t logBefore = indexd.logBytes();
    UdpTrafficCounter traffic(test::PacketCapture::portOf(net.index()), {"login,", "logout,", "Accept,", "seal,"});
    RawFlooder::Plan plan;
    plan.target = net.index();
    plan.perSecond = 200;
    plan.duration = context.flood();
    plan.makePayload = [](const std::string& source, std::uint64_t n) {
        return "login,fake" + std::to_string(n) + "," + source;
    };
    RawFlooder flood(plan);
    for (const auto end = context.floodEnd(); StressContext::Clock::now() < end && StressContext::sleep(200ms);)
        indexd.sample();
    flood.wait();
    // What the last logins set off is counted too.
    StressContext::sleep(2s);
    const UdpTrafficCounter::Totals totals = traffic.stop();

    const double ratio = totals.bytesIn > 0 ? double(totals.bytesOut) / double(totals.bytesIn) : 0;
    report.figure("forged seed logins", Report::count(flood.sent()) + ", " +
                                            Report::megabytes(double(flood.sentBytes())) + " in " +
                                            Report::duration(flood.seconds()));
    report.figure("bytes in at indexd's port", Report::megabytes(double(totals.bytesIn)) + " in " +
                                                   Report::count(totals.datagramsIn) + " datagrams");
    report.figure("bytes out of indexd's port", Report::megabytes(double(totals.bytesOut)) + " in " +
                                                    Report::count(totals.datagramsOut) + " datagrams");
    report.figure("presence sent", Report::count(totals.outByPrefix.at("login,")) + " login, " +
                                       Report::count(totals.outByPrefix.at("logout,")) + " logout announcements; " +
                                       Report::count(totals.outByPrefix.at("Accept,")) + " Accepts");
    // Heartbeat answers; a forged login that went online would add a `here` to each.
    report.figure("sealed datagrams to alice and bob", Report::count(totals.outByPrefix.at("seal,")));
    if (totals.missed > 0) report.figure("capture missed", Report::count(totals.missed) + " datagrams");
    report.figure("indexd log growth", Report::megabytes(double(indexd.logBytes() - logBefore)));
    report.figure("indexd RSS at most", std::to_string(indexd.peakKiB() / 1024) + " MB");
    report.bound("legacy bytes out / bytes in under 10x", totals.bytesIn > 0 && ratio < kLegacyAmplification,
                 Report::ratio(ratio));
}

struct Fetch
{
    double seconds = 0;
    std::size_t bytes = 0;
    std::size_t users = 0;
    std::string failure;
};

// Reads the whole seed roster at 127.0.0.1:port as a seed client does
// (connect, read to the close), within 5 s, and decodes it.
Fetch fetchRoster(int port)
{
    const auto start = StressContext::Clock::now();
    Fetch fetch;
    try {
        Poco::Net::StreamSocket tcp;
        tcp.connect(Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(port)), Poco::Timespan(5, 0));
        tcp.setReceiveTimeout(Poco::Timespan(5, 0));
        std::string stream;
        char buffer[65536];
        for (int n; (n = tcp.receiveBytes(buffer, sizeof buffer)) > 0;) {
            stream.append(buffer, static_cast<std::size_t>(n));
            if (StressContext::secondsSince(start) > 5) throw std::runtime_error("not read whole within 5 s");
        }
        fetch.bytes = stream.size();
        const auto roster = RosterCodec::decode(stream, RosterFormat::SeedText);
        if (roster) fetch.users = roster->size();
        else fetch.failure = roster.error();
    } catch (const std::exception& e) {
        fetch.failure = e.what();
    }
    fetch.seconds = StressContext::secondsSince(start);
    return fetch;
}

// Row 8, in legacy mode (the only roster port left is the seed's): 2,000
// seed users online, then 1,000 connections from 127.0.0.2 to the seed
// roster port that never read a roster larger than their socket buffers,
// then 100 more a second; meanwhile a fetch from 127.0.0.1 every 2 s, and a
// new peerd a third of the way in.
void rosterPort(const StressContext& context, Report& report)
{
    constexpr std::size_t kStalled = 1000;
    constexpr auto kNewEvery = 10ms;
    constexpr auto kNewPeerdDeadline = 30s;
    // The seed users all log in from 127.0.0.1, faster than the default login rates allow.
    std::vector<std::string> flags = kNoExpiry;
    flags.insert(flags.end(), {"--login-rate", "1000000", "--logins-per-minute", "1000000"});
    test::ChatNetwork net(test::ChatNetwork::Wire::Legacy, flags);
    SeedCrowd crowd(net, "roster-filler-", kSeedCrowd);
    report.figure("seed users online", Report::count(crowd.size()) + " (logged in in " +
                                           Report::duration(crowd.loginSeconds()) + ")");
    const int port = net.rosterPort("seed-roster");
    const Fetch baseline = fetchRoster(port);
    report.figure("roster fetch before", Report::duration(baseline.seconds) + ", " +
                                             Report::megabytes(double(baseline.bytes)) + ", " +
                                             Report::count(baseline.users) + " users" +
                                             (baseline.failure.empty() ? "" : " (" + baseline.failure + ")"));

    IdleConnections stalled;
    for (std::size_t i = 0; i < kStalled; ++i) stalled.openTcp("127.0.0.2", "127.0.0.1", port);
    const auto start = StressContext::Clock::now();
    const auto end = start + context.flood();
    IdleConnections newcomers;
    bench::Samples fetchTimes;
    std::vector<std::string> fetchFailures;
    std::size_t fewestUsers = kSeedCrowd;
    Background background;
    background.threads.emplace_back([&] {
        for (auto next = start; !background.over && StressContext::sleepUntil(next); next += kNewEvery)
            newcomers.openTcp("127.0.0.2", "127.0.0.1", port);
    });
    background.threads.emplace_back([&] {
        for (auto next = start; !background.over && StressContext::sleepUntil(next); next += 2s) {
            const Fetch fetch = fetchRoster(port);
            fetchTimes.add(std::chrono::duration_cast<StressContext::Clock::duration>(
                std::chrono::duration<double>(fetch.seconds)));
            if (!fetch.failure.empty()) fetchFailures.push_back(fetch.failure);
            else fewestUsers = std::min(fewestUsers, fetch.users);
        }
    });

    StressContext::sleepUntil(start + context.flood() / 3);
    const auto started = StressContext::Clock::now();
    net.startPeerd("newbie");
    test::LocalClient newbie(net.socketOf("newbie"));
    const auto isOnline = [](const test::LocalClient::Object& event) {
        const std::string name = event->optValue<std::string>("event", "");
        return (name == "welcome" || name == "state") && event->getValue<std::string>("state") == "online";
    };
    std::optional<double> newPeerdOnline;
    while (!newPeerdOnline && StressContext::Clock::now() < started + kNewPeerdDeadline && !StressContext::stopping()) {
        if (newbie.waitFor(isOnline, 100ms)) newPeerdOnline = StressContext::secondsSince(started);
    }
    StressContext::sleepUntil(end);
    background.stop();

    report.figure("stalled connections from 127.0.0.2", Report::count(stalled.size()) + " at once, then " +
                                                            Report::count(newcomers.size()) + " more (100/s)");
    const std::size_t closed = stalled.closedByPeer() + newcomers.closedByPeer();
    report.figure("stalled connections indexd closed", Report::count(closed));
    const std::string firstFailure = fetchFailures.empty() ? "" : " (" + fetchFailures.front() + ")";
    report.figure("roster fetches from 127.0.0.1", Report::count(fetchTimes.size()) + ", " +
                                                       Report::count(fetchFailures.size()) + " failed" + firstFailure +
                                                       "; fewest users in a whole one " + Report::count(fewestUsers));
    const double slowest = fetchTimes.percentile(100) / 1e6;
    report.figure("roster fetch time", "p50 " + Report::duration(fetchTimes.percentile(50) / 1e6) + ", max " +
                                           Report::duration(slowest));
    const std::string newPeerd = newPeerdOnline
                                     ? Report::duration(*newPeerdOnline)
                                     : "not online after " + Report::duration(double(kNewPeerdDeadline.count()));
    report.figure("new peerd's time to online", newPeerd);
    report.goal("a real fetch completes within 1 s", fetchFailures.empty() && slowest < 1, Report::duration(slowest));
    report.goal("a new peerd online within 10 s", newPeerdOnline && *newPeerdOnline < 10, newPeerd);
}

// Declares names as client's contact list, version version, in as many
// signed parts as their bytes take (as peerd splits a long list).
void declareInParts(test::SecureClient& client, const std::vector<std::string>& names, std::uint64_t version)
{
    std::vector<ContactsDeclaration> parts;
    std::size_t bytes = 0;
    for (const std::string& name : names) {
        if (parts.empty() || bytes + 1 + name.size() > Protocol::kMaxDeclarationNamesBytes) {
            parts.push_back(ContactsDeclaration{client.name(), version, std::uint32_t(parts.size() + 1), 1,
                                                PresenceState::Online, {}, {}, {}});
            bytes = name.size();
        } else {
            bytes += 1 + name.size();
        }
        parts.back().names.push_back(name);
    }
    for (ContactsDeclaration& part : parts) {
        part.parts = std::uint32_t(parts.size());
        part.sig = client.identity().sign(SignedStatement::contacts(part));
        client.sendToIndex(part);
    }
}

// What the snapshot that comes to client within 2 s lists: "listing N users", or "none within 2 s".
std::string snapshotOf(test::SecureClient& client)
{
    if (const auto received = client.receiveInner("snapshot", 2s)) {
        for (const Message& inner : received->bundle) {
            if (const auto* snapshot = std::get_if<Snapshot>(&inner))
                return "listing " + Report::count(snapshot->count) + " users";
        }
    }
    return "none within 2 s";
}

// Row 9: one identity on one address (127.0.0.3) logs in, declares its
// 1,000 contacts, takes its snapshot and logs out, as fast as indexd lets
// it; its contacts, online, each declared it back, so each hears of every
// login and logout.
void loginChurn(const StressContext& context, Report& report)
{
    test::ChatNetwork net(test::ChatNetwork::Wire::Secure, kNoExpiry);
    Crowd crowd(net, "user", kCrowd);
    crowd.declare({"churner"});
    report.figure("contacts online", Report::count(crowd.size()) + " (logged in in " +
                                         Report::duration(crowd.loginSeconds()) + "), each declaring the churner");
    const std::vector<std::string> contacts = crowd.names();
    auto churner = Crowd::logIn(net, "churner", "127.0.0.3");
    churner->logout();
    crowd.heardOf("churner");
    UdpTrafficCounter traffic(test::PacketCapture::portOf(net.index()), {});
    std::uint64_t logins = 0;
    std::uint64_t version = 0;
    std::map<std::string, std::uint64_t> refusals;
    std::map<std::string, std::uint64_t> snapshots;
    const auto start = StressContext::Clock::now();
    for (const auto end = start + context.flood(); StressContext::Clock::now() < end && !StressContext::stopping();) {
        const auto welcome = churner->login(net.index(), 500ms);
        if (welcome) {
            ++logins;
            declareInParts(*churner, contacts, ++version);
            ++snapshots[snapshotOf(*churner)];
            churner->logout();
        } else {
            // "refuse,NAME,REASON,ECHO": the echo differs each time.
            ++refusals[firstFields(welcome.error(), 3)];
        }
    }
    const double seconds = StressContext::secondsSince(start);
    StressContext::sleep(2s);
    const UdpTrafficCounter::Totals totals = traffic.stop();
    const Crowd::Heard heard = crowd.heardOf("churner");

    const double ratio = totals.bytesIn > 0 ? double(totals.bytesOut) / double(totals.bytesIn) : 0;
    report.figure("logins and logouts", Report::count(logins) + " each in " + Report::duration(seconds));
    report.figure("logins refused or unanswered", listed(refusals));
    std::string listedSnapshots;
    for (const auto& [what, n] : snapshots)
        listedSnapshots += (listedSnapshots.empty() ? "" : ", ") + Report::count(n) + " " + what;
    report.figure("the churner's snapshots", listedSnapshots.empty() ? "none" : listedSnapshots);
    report.figure("bytes in at indexd's port", Report::megabytes(double(totals.bytesIn)) + " in " +
                                                   Report::count(totals.datagramsIn) + " datagrams");
    report.figure("bytes out of indexd's port", Report::megabytes(double(totals.bytesOut)) + " in " +
                                                    Report::count(totals.datagramsOut) + " datagrams");
    report.figure("presence heard by the contacts", Report::count(heard.here) + " here, " +
                                                                    Report::count(heard.gone) + " gone in " +
                                                                    Report::count(heard.datagrams) + " datagrams");
    if (totals.missed > 0) report.figure("capture missed", Report::count(totals.missed) + " datagrams");
    report.figure("bytes out / bytes in", Report::ratio(ratio));
    report.goal("bytes out / bytes in under 10x", totals.bytesIn > 0 && ratio < 10, Report::ratio(ratio));
}

} // namespace

std::vector<Scenario> indexdScenarios()
{
    return {
        {1, "mailbox",
         "one logged-in user posts the largest offline mail as fast as indexd answers, to unregistered names and "
         "to one registered offline name",
         mailboxFlood},
        {2, "legacy", "--legacy: seed logins from random forged sources at 200/s, with alice and bob online",
         legacyAmplification},
        {8, "roster-port",
         "--legacy: 1,000 seed roster connections from 127.0.0.2 that never read a 2,000-user roster, and 100 new "
         "ones a second",
         rosterPort},
        {9, "login-churn",
         "one address logs in and out as fast as indexd allows, with its 1,000 mutual contacts online", loginChurn},
    };
}

} // namespace peerchat::stress
