// Rows 3 and 7 of issue 9: forged login traffic aimed at bob's peerd while
// its first login is pending. bob's UDP port is chosen before it starts, as
// an attacker who knows where bob logs in from would aim.
#include "ChatNetwork.h"
#include "Protocol.h"
#include "RawFlooder.h"
#include "Scenario.h"
#include "SeedClient.h"

#include <Poco/Net/DatagramSocket.h>

#include <algorithm>
#include <csignal>
#include <optional>
#include <sodium.h>
#include <sstream>

using namespace std::chrono_literals;

namespace peerchat::stress {

namespace {

// How long peerd may take to log in while attacked (a goal of the packages, not a bound of the issue).
constexpr double kOnlineWithinSeconds = 10;

int freeUdpPort()
{
    const Poco::Net::DatagramSocket probe(Poco::Net::SocketAddress("127.0.0.1", 0), false);
    return probe.address().port();
}

Nonce randomNonce()
{
    Nonce nonce{};
    ::randombytes_buf(nonce.data(), nonce.size());
    return nonce;
}

Endpoint endpointOf(const std::string& text)
{
    const auto endpoint = Endpoint::parse(text);
    if (!endpoint) throw std::invalid_argument(text + ": " + endpoint.error());
    return *endpoint;
}

// The last line of text that holds needle; empty when none does.
std::string lastLineWith(const std::string& text, const std::string& needle)
{
    std::istringstream lines(text);
    std::string found;
    for (std::string line; std::getline(lines, line);) {
        if (line.find(needle) != std::string::npos) found = line;
    }
    return found;
}

/// How bob's peerd fared from its start to the end of the attack.
struct FirstLogin
{
    std::optional<double> onlineAfter;  ///< seconds from indexd's resume to bob's first "online"
    std::string state = "none";         ///< the last state its local socket reported
    std::string detail;                 ///< and that state's detail
    bool running = false;               ///< still running at the end
    std::string exit;                   ///< when it exited: when, its status and the refusal it logged
};

// Starts bob's peerd on port while indexd is stopped (SIGSTOP), as when
// peerd starts before indexd, so that its first login is pending when the
// attack reaches it; resumes indexd a second later and follows bob's state
// through its local socket until `until`.
FirstLogin watchFirstLogin(test::ChatNetwork& net, int port, StressContext::Clock::time_point until)
{
    struct Resume
    {
        test::DaemonProcess& indexd;
        ~Resume() { indexd.signal(SIGCONT); }
    };
    FirstLogin login;
    auto bob = net.peerdProcess("bob", {"--port", std::to_string(port)});
    const auto started = StressContext::Clock::now();
    auto resumed = started + 1s;
    const auto since = [](StressContext::Clock::time_point t) {
        return std::chrono::duration<double>(StressContext::Clock::now() - t).count();
    };
    net.indexd().signal(SIGSTOP);
    {
        const Resume resume{net.indexd()};
        bob->start();
        try {
            bob->waitReady();
        } catch (const std::exception&) {
            // It exited before it was ready: told below.
        }
        while (StressContext::Clock::now() < resumed && bob->running() && StressContext::sleep(20ms)) {
        }
    }
    const auto exited = bob->running() ? std::nullopt : std::optional(since(started));
    resumed = StressContext::Clock::now();
    try {
        test::LocalClient client(net.socketOf("bob"));
        const auto isState = [](const test::LocalClient::Object& event) {
            const std::string name = event->optValue<std::string>("event", "");
            return name == "welcome" || name == "state";
        };
        while (StressContext::Clock::now() < until && !StressContext::stopping() && bob->running()) {
            if (const auto event = client.waitFor(isState, 100ms)) {
                login.state = event->getValue<std::string>("state");
                login.detail = event->optValue<std::string>("detail", "");
                if (login.state == "online" && !login.onlineAfter) login.onlineAfter = since(resumed);
            }
        }
    } catch (const std::exception&) {
        // Its socket went with the process: told below.
    }
    login.running = bob->running();
    if (!login.running) {
        const double after = exited.value_or(since(started));
        const int status = bob->waitExit(1s);
        login.exit = "exited with status " + std::to_string(status) + ", " + Report::duration(after) +
                     " after it started: " + lastLineWith(bob->log(), "refused");
    }
    return login;
}

void reportFirstLogin(Report& report, const FirstLogin& login)
{
    report.figure("bob's time to online after indexd resumed",
                  login.onlineAfter ? Report::duration(*login.onlineAfter) : "never");
    report.figure("bob's last state", login.state + (login.detail.empty() ? "" : " (" + login.detail + ")"));
    report.figure("bob's peerd", login.running ? "running at the end" : login.exit);
    report.goal("bob online within 10 s and at the end",
                login.onlineAfter && *login.onlineAfter < kOnlineWithinSeconds && login.state == "online",
                login.onlineAfter ? Report::duration(*login.onlineAfter) + ", then " + login.state : "never online");
}

// Row 3: from the attacker's own address (127.0.0.2, no forging), plain
// UTF-16 logins naming bob's endpoint, at 200/s; and from indexd's address
// (forged) refusals of bob, with and without a random echo, at 200/s; bob's
// peerd starts a second into it, while indexd is stalled for a second.
void forgedRefusal(const StressContext& context, Report& report)
{
    test::ChatNetwork net;
    const std::string bob = "127.0.0.1:" + std::to_string(freeUdpPort());
    // A socket holds the attacker's port, so nothing answers it unreachable.
    const Poco::Net::DatagramSocket attacker(Poco::Net::SocketAddress("127.0.0.2", 0), false);
    RawFlooder::Plan logins;
    logins.target = net.index();
    logins.source = attacker.address().toString();
    logins.payloads = {test::toUtf16le("login,bob," + bob)};
    logins.perSecond = 200;
    logins.duration = context.flood();
    RawFlooder::Plan refusals;
    refusals.target = bob;
    refusals.source = net.index();
    refusals.perSecond = 200;
    refusals.duration = context.flood();
    refusals.makePayload = [](const std::string&, std::uint64_t n) {
        static const char* const reasons[] = {"legacy", "taken", "key", "version"};
        Refuse refuse{"bob", reasons[n % 4], std::nullopt};
        if (n % 8 >= 4) refuse.echo = randomNonce();
        return Protocol::encodeDatagram(refuse, TextEncoding::Utf8);
    };
    const auto end = StressContext::Clock::now() + context.flood();
    RawFlooder loginFlood(logins);
    RawFlooder refusalFlood(refusals);
    StressContext::sleep(1s);
    const FirstLogin login = watchFirstLogin(net, std::stoi(bob.substr(bob.rfind(':') + 1)), end);
    loginFlood.wait();
    refusalFlood.wait();

    report.figure("UTF-16 logins naming bob from 127.0.0.2", Report::count(loginFlood.sent()));
    report.figure("forged refusals from indexd's address", Report::count(refusalFlood.sent()));
    reportFirstLogin(report, login);
    report.bound("peerd keeps running after a forged refusal", login.running, login.running ? "running" : login.exit);
}

// Row 7: forged challenges for bob from indexd's address at 200/s, each
// echoing a random hello nonce, none of them signed by indexd;
// bob's peerd starts a second into it, while indexd is stalled for a second.
void forgedChallenges(const StressContext& context, Report& report)
{
    test::ChatNetwork net;
    const int port = freeUdpPort();
    const std::string bob = "127.0.0.1:" + std::to_string(port);
    RawFlooder::Plan challenges;
    challenges.target = bob;
    challenges.source = net.index();
    challenges.perSecond = 200;
    challenges.duration = context.flood();
    challenges.makePayload = [observed = endpointOf(bob)](const std::string&, std::uint64_t n) {
        Challenge challenge{"bob", observed, randomNonce(), randomNonce(), {}, {}, {}};
        if (n % 2 == 1) challenge.sig.fill(1);
        return Protocol::encodeDatagram(challenge, TextEncoding::Utf8);
    };
    const auto end = StressContext::Clock::now() + context.flood();
    RawFlooder flood(challenges);
    StressContext::sleep(1s);
    const FirstLogin login = watchFirstLogin(net, port, end);
    flood.wait();

    report.figure("forged challenges from indexd's address", Report::count(flood.sent()));
    reportFirstLogin(report, login);
}

} // namespace

std::vector<Scenario> loginScenarios()
{
    return {
        {3, "forged-refusal",
         "UTF-16 logins naming bob's endpoint from 127.0.0.2 and forged refusals from indexd's address, 200/s each, "
         "while bob's peerd logs in",
         forgedRefusal},
        {7, "forged-challenge", "forged challenges from indexd's address at 200/s while bob's first login is pending",
         forgedChallenges},
    };
}

} // namespace peerchat::stress
