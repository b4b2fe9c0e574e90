#include "CrowdWorker.h"

#include "Protocol.h"

#include <arpa/inet.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <variant>

namespace peerchat::bench {

namespace {

/// The epoll tag of the parent's socket: no slot has it.
constexpr std::uint32_t kControl = 0xffffffffu;
/// Progress goes to the parent this often while a phase runs.
constexpr auto kProgressEvery = std::chrono::milliseconds(50);
/// Datagrams read from one socket before the loop turns to the others
/// (level-triggered epoll brings the socket back).
constexpr std::size_t kReadsPerTurn = 64;
/// Datagrams one recvmmsg takes at most.
constexpr std::size_t kBatch = 16;

std::int64_t nanoseconds(std::chrono::steady_clock::time_point t)
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

std::string errorText(int error)
{
    return std::strerror(error);
}

// The CPU time this process has used, user and system, in ns.
std::int64_t processCpuNs()
{
    timespec now{};
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
    return static_cast<std::int64_t>(now.tv_sec) * 1000000000 + now.tv_nsec;
}

} // namespace

CrowdWorker::CrowdWorker(const ContactGraph& graph, const std::vector<bool>& changing,
                         const std::vector<bool>& leaving, Settings settings, int parentFd)
    : _graph(graph), _changing(changing), _leaving(leaving), _settings(std::move(settings)), _parentFd(parentFd)
{
    _window = std::min(_window, static_cast<double>(_settings.window));
}

CrowdWorker::~CrowdWorker()
{
    for (const Slot& slot : _slots)
        if (slot.fd >= 0) ::close(slot.fd);
    if (_epoll >= 0) ::close(_epoll);
}

int CrowdWorker::run()
{
    setUp();
    report(Report::Kind::Ready);
    if (!serve()) return 0;
    report(Report::Kind::Stopped);
    return 0;
}

void CrowdWorker::reportFailure(int parentFd, const std::string& why)
{
    Report failure;
    failure.kind = Report::Kind::Failed;
    std::snprintf(failure.detail, sizeof failure.detail, "%s", why.c_str());
    // Nothing more to do when the parent is gone.
    if (::send(parentFd, &failure, sizeof failure, MSG_NOSIGNAL) < 0) return;
}

void CrowdWorker::setUp()
{
    // The soft limit may be below the hard one (20,000 here, which no process
    // can raise): every user holds a socket.
    rlimit files{};
    ::getrlimit(RLIMIT_NOFILE, &files);
    if (files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &files);
    }
    if (files.rlim_cur != RLIM_INFINITY && _settings.count + 32 > files.rlim_cur)
        throw std::runtime_error("a worker of " + std::to_string(_settings.count) + " users needs as many sockets, "
                                 "but may open " + std::to_string(files.rlim_cur) + " files: give it fewer users");
    _epoll = ::epoll_create1(EPOLL_CLOEXEC);
    if (_epoll < 0) throw std::runtime_error("epoll_create1: " + errorText(errno));
    epoll_event control{};
    control.events = EPOLLIN;
    control.data.u32 = kControl;
    if (::epoll_ctl(_epoll, EPOLL_CTL_ADD, _parentFd, &control) != 0)
        throw std::runtime_error("epoll_ctl on the parent's socket: " + errorText(errno));

    _slots.reserve(_settings.count);
    for (std::uint32_t i = 0; i < _settings.count; ++i) {
        const std::uint32_t number = _settings.first + i;
        _slots.emplace_back(CrowdUser(number, SigningKey::generate(), _settings.indexKey));
        _slots.back().roster.assign(_graph.contactsOf(number).size(), kAbsent);
        openSocket(_slots.back());
    }
}

void CrowdWorker::openSocket(Slot& slot)
{
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error("socket for " + slot.user.name() + ": " + errorText(errno));
    slot.fd = fd;
    const int buffer = _settings.receiveBufferBytes;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
    const std::size_t address = 1 + slot.user.number() / _settings.usersPerAddress;
    if (address > 254)
        throw std::runtime_error(slot.user.name() + " would need 127.0.0." + std::to_string(address)
                                 + ": raise usersPerAddress (" + std::to_string(_settings.usersPerAddress) + ")");
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_addr.s_addr = htonl(INADDR_LOOPBACK - 1 + static_cast<in_addr_t>(address));
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&local), sizeof local) != 0)
        throw std::runtime_error("cannot bind " + slot.user.name() + "'s socket to port 0 of 127.0.0."
                                 + std::to_string(address) + ": " + errorText(errno)
                                 + " (each address has the ports of net.ipv4.ip_local_port_range; lower "
                                   "usersPerAddress, now "
                                 + std::to_string(_settings.usersPerAddress) + ")");
    // Connected: the socket takes datagrams from indexd alone, and an
    // indexd that is gone shows as ECONNREFUSED rather than as silence.
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&_settings.index), sizeof _settings.index) != 0)
        throw std::runtime_error("connect " + slot.user.name() + "'s socket to indexd: " + errorText(errno));
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.u32 = static_cast<std::uint32_t>(&slot - _slots.data());
    if (::epoll_ctl(_epoll, EPOLL_CTL_ADD, fd, &event) != 0)
        throw std::runtime_error("epoll_ctl for " + slot.user.name() + ": " + errorText(errno));
}

bool CrowdWorker::serve()
{
    std::array<epoll_event, 256> events{};
    auto nextProgress = Clock::now() + kProgressEvery;
    while (true) {
        startSteps();
        const auto now = Clock::now();
        auto wake = nextProgress;
        if (!_deadlines.empty()) wake = std::min(wake, _deadlines.top().at);
        const auto wait = std::chrono::ceil<std::chrono::milliseconds>(std::max(wake - now, Clock::duration::zero()));
        const int ready = ::epoll_wait(_epoll, events.data(), static_cast<int>(events.size()),
                                       static_cast<int>(wait.count()));
        if (ready < 0 && errno != EINTR) throw std::runtime_error("epoll_wait: " + errorText(errno));
        for (int i = 0; i < ready; ++i) {
            const std::uint32_t tag = events[static_cast<std::size_t>(i)].data.u32;
            if (tag != kControl) {
                readSocket(tag);
                continue;
            }
            char command = 0;
            const ssize_t got = ::recv(_parentFd, &command, 1, 0);
            if (got == 0) return false;
            if (got != 1) continue;
            if (command == 'q') return true;
            if (command == 'l') beginPhase(Phase::Logins);
            else if (command == 's') beginPhase(Phase::StateChanges);
            else if (command == 'o') beginPhase(Phase::Logouts);
            else throw std::runtime_error(std::string("unknown command '") + command + "' from the parent");
        }
        fireDeadlines();
        if (_phase != Phase::None && Clock::now() >= nextProgress) {
            report(Report::Kind::Progress);
            nextProgress = Clock::now() + kProgressEvery;
        }
    }
}

void CrowdWorker::beginPhase(Phase phase)
{
    _phase = phase;
    _report.phase = phase;
    _report.actions = 0;
    _report.actionsDone = 0;
    _report.failed = 0;
    _report.required = 0;
    _report.requiredRead = 0;
    _report.pending = 0;
    _report.entries = 0;
    _report.strangers = 0;
    _report.regressions = 0;
    _report.gaps = 0;
    _report.resends = 0;
    _report.lastActionNs = 0;
    _report.lastRequiredNs = 0;
    _cpuAtPhaseStart = processCpuNs();
    _actors.clear();
    _nextActor = 0;
    _inFlight = 0;
    for (std::uint32_t index = 0; index < _slots.size(); ++index) {
        const Slot& slot = _slots[index];
        const std::uint32_t user = slot.user.number();
        const bool acts = phase == Phase::Logins || (phase == Phase::StateChanges && _changing[user])
                          || (phase == Phase::Logouts && _leaving[user]);
        if (acts) _actors.push_back(index);
        for (std::size_t contact = 0; contact < slot.roster.size(); ++contact) {
            const std::uint8_t wanted = target(slot, contact);
            if (wanted != kAny && (slot.roster[contact] & kShown) != wanted) ++_report.pending;
        }
    }
    _report.actions = _actors.size();
    _report.required = _report.pending;
    report(Report::Kind::Progress);
}

void CrowdWorker::startSteps()
{
    const std::size_t bound =
        _phase == Phase::Logins ? static_cast<std::size_t>(_window) : _settings.actionsInFlight;
    while (_inFlight < bound && _nextActor < _actors.size()) {
        Slot& slot = _slots[_actors[_nextActor++]];
        if (slot.step == Step::Failed) continue;
        slot.inWindow = true;
        ++_inFlight;
        slot.attempts = 0;
        switch (_phase) {
        case Phase::Logins:
            slot.step = Step::LoggingIn;
            sendHello(slot);
            break;
        case Phase::StateChanges:
            slot.step = Step::Changing;
            slot.away = true;
            // Later lists need larger versions: the wall clock, as peerd's,
            // and never one this worker used before.
            slot.version = 0;
            sendDeclaration(slot);
            break;
        case Phase::Logouts:
            slot.step = Step::Leaving;
            sendLogout(slot);
            break;
        case Phase::None: break;
        }
    }
}

void CrowdWorker::readSocket(std::uint32_t index)
{
    Slot& slot = _slots[index];
    static std::array<std::array<char, Protocol::kMaxDatagramBytes + 1>, kBatch> buffers;
    std::array<iovec, kBatch> vectors{};
    std::array<mmsghdr, kBatch> headers{};
    for (std::size_t i = 0; i < kBatch; ++i) {
        vectors[i] = iovec{buffers[i].data(), buffers[i].size()};
        headers[i].msg_hdr.msg_iov = &vectors[i];
        headers[i].msg_hdr.msg_iovlen = 1;
    }
    std::size_t read = 0;
    while (read < kReadsPerTurn) {
        const int got = ::recvmmsg(slot.fd, headers.data(), static_cast<unsigned>(kBatch), MSG_DONTWAIT, nullptr);
        if (got < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
            if (slot.step != Step::Failed)
                giveUp(slot, "its socket failed: " + errorText(errno)
                                 + (errno == ECONNREFUSED ? " (indexd's port is closed: is indexd running?)" : ""));
            return;
        }
        for (int i = 0; i < got; ++i) {
            const msghdr& header = headers[static_cast<std::size_t>(i)].msg_hdr;
            const auto length = headers[static_cast<std::size_t>(i)].msg_len;
            if (header.msg_flags & MSG_TRUNC) {
                ++_report.unexpected;
                continue;
            }
            receive(slot, std::string_view(buffers[static_cast<std::size_t>(i)].data(), length));
        }
        read += static_cast<std::size_t>(got);
        if (static_cast<std::size_t>(got) < kBatch) return;
    }
}

void CrowdWorker::receive(Slot& slot, std::string_view datagram)
{
    if (slot.step == Step::Failed || slot.step == Step::Left) return;
    const Parsed<Inbound> inbound = Protocol::decodeDatagram(datagram);
    if (!inbound) {
        ++_report.unexpected;
        return;
    }
    const bool loggingIn = slot.step == Step::LoggingIn;
    std::visit(
        [&](const auto& message) {
            using T = std::decay_t<decltype(message)>;
            if constexpr (std::is_same_v<T, Challenge>) {
                if (!loggingIn) {
                    ++_report.unexpected;
                    return;
                }
                const CrowdUser::Answer answer = slot.user.answer(message);
                if (answer.wrongIndex) {
                    giveUp(slot, answer.dropped);
                    return;
                }
                if (!answer.auth) {
                    ++_report.unexpected;
                    return;
                }
                answered(slot);
                send(slot, Protocol::encode(*answer.auth));
                ++_report.auths;
            } else if constexpr (std::is_same_v<T, Welcome>) {
                if (!loggingIn || !slot.user.welcome(message).empty()) {
                    ++_report.unexpected;
                    return;
                }
                answered(slot);
                slot.step = Step::Declaring;
                slot.attempts = 0;
                sendDeclaration(slot);
            } else if constexpr (std::is_same_v<T, Refuse>) {
                refused(slot, message);
            } else if constexpr (std::is_same_v<T, Relogin>) {
                relogin(slot);
            } else if constexpr (std::is_same_v<T, Seal>) {
                takeSeal(slot, message);
            } else {
                ++_report.unexpected;
            }
        },
        inbound->message);
}

// Sealed messages are taken apart by CrowdUser::open; what they mean for the
// loop is decided here.
void CrowdWorker::takeSeal(Slot& slot, const Seal& seal)
{
    const CrowdUser::Opened opened = slot.user.open(seal);
    if (!opened.refused.empty()) {
        ++_report.unexpected;
        return;
    }
    _report.unexpected += opened.passedOver;
    if (opened.declared && *opened.declared >= slot.version) {
        if (slot.step == Step::Declaring) {
            answered(slot);
            slot.step = Step::Loading;
            slot.attempts = 0;
            schedule(slot, _settings.retry);
        } else if (slot.step == Step::Changing) {
            done(slot);
        }
    }
    // A seen answers the alive that follows a logout: indexd still holds
    // the session, so the logout was lost.
    if (opened.seen && slot.step == Step::Leaving) sendLogout(slot);
    for (const CrowdUser::Presence& presence : opened.presence) apply(slot, presence);
}

void CrowdWorker::refused(Slot& slot, const Refuse& refuse)
{
    if (refuse.name != slot.user.name() || !slot.user.echoesOwn(refuse.echo)) {
        ++_report.unexpected;
        return;
    }
    ++_report.refusals;
    // auth: the challenge expired or a signature failed, ask again; busy:
    // too many logins of this key, the next hello goes at the retry. Any
    // other reason is final, as for peerd.
    if (refuse.reason == "auth") {
        if (slot.attempts >= _settings.attempts) giveUp(slot, "refused (auth) " + std::to_string(slot.attempts) + " times");
        else sendHello(slot);
    } else if (refuse.reason != "busy") {
        giveUp(slot, "refused: " + refuse.reason);
    }
}

void CrowdWorker::relogin(Slot& slot)
{
    if (slot.step == Step::Leaving) {
        // The alive after the logout found no session: indexd let the user go.
        slot.step = Step::Left;
        ++slot.token;
        done(slot);
        return;
    }
    giveUp(slot, "indexd answered relogin: it forgot the user (is --expire-ms long enough?)");
}

void CrowdWorker::apply(Slot& slot, const CrowdUser::Presence& presence)
{
    using Kind = CrowdUser::Presence::Kind;
    if (presence.kind != Kind::Snapshot) ++_report.entries;
    if (presence.kind == Kind::Snapshot) {
        if (slot.nextSeq != 0 && presence.seq < slot.nextSeq) return;
        slot.nextSeq = presence.seq + 1;
        slot.resyncing = false;
        slot.inSnapshot = true;
        slot.snapshotLeft = presence.count;
        for (std::uint8_t& shown : slot.roster) shown &= kShown;
        if (presence.count == 0) finishSnapshot(slot);
        return;
    }
    if (slot.resyncing || slot.nextSeq == 0 || presence.seq < slot.nextSeq) return;
    if (presence.seq > slot.nextSeq) {
        // A datagram was lost: as peerd, declare again for a fresh snapshot.
        ++_report.gaps;
        slot.resyncing = true;
        slot.inSnapshot = false;
        slot.attempts = 0;
        sendDeclaration(slot);
        return;
    }
    ++slot.nextSeq;
    const std::size_t contact = contactIndex(slot, presence.name);
    if (contact == slot.roster.size()) {
        ++_report.strangers;
    } else if (presence.kind == Kind::Gone) {
        show(slot, contact, kAbsent, false);
    } else {
        const std::uint8_t shown = presence.state == PresenceState::Away   ? kAway
                                   : presence.state == PresenceState::Busy ? kBusy
                                                                           : kOnline;
        show(slot, contact, shown, slot.inSnapshot);
    }
    if (slot.inSnapshot && --slot.snapshotLeft == 0) finishSnapshot(slot);
}

void CrowdWorker::finishSnapshot(Slot& slot)
{
    slot.inSnapshot = false;
    // Whom the snapshot did not name is not here.
    for (std::size_t contact = 0; contact < slot.roster.size(); ++contact) {
        if (slot.roster[contact] & kMarked) slot.roster[contact] &= kShown;
        else if (slot.roster[contact] != kAbsent) show(slot, contact, kAbsent, false);
    }
    if (slot.step == Step::Loading || slot.step == Step::Declaring) {
        done(slot);
        return;
    }
    // A snapshot asked for after a gap: nothing more is awaited.
    if (slot.step == Step::Online) ++slot.token;
}

void CrowdWorker::show(Slot& slot, std::size_t contact, std::uint8_t shown, bool marked)
{
    const std::uint8_t before = slot.roster[contact] & kShown;
    slot.roster[contact] = static_cast<std::uint8_t>(shown | (marked ? kMarked : 0));
    const std::uint8_t wanted = target(slot, contact);
    if (wanted == kAny) return;
    if (before != wanted && shown == wanted) {
        ++_report.requiredRead;
        --_report.pending;
        _report.lastRequiredNs = nanoseconds(Clock::now());
    } else if (before == wanted && shown != wanted) {
        ++_report.regressions;
        ++_report.pending;
    }
}

std::uint8_t CrowdWorker::target(const Slot& slot, std::size_t contact) const
{
    const std::uint32_t user = slot.user.number();
    const std::uint32_t other = _graph.contactsOf(user)[contact];
    switch (_phase) {
    case Phase::None: return kAny;
    case Phase::Logins: return kOnline;
    case Phase::StateChanges: return _changing[other] ? kAway : kOnline;
    case Phase::Logouts:
        if (_leaving[user]) return kAny;
        if (_leaving[other]) return kAbsent;
        return _changing[other] ? kAway : kOnline;
    }
    return kAny;
}

std::size_t CrowdWorker::contactIndex(const Slot& slot, std::string_view name) const
{
    std::uint32_t number = 0;
    if (name.size() < 2 || name[0] != 'u') return slot.roster.size();
    const auto [end, error] = std::from_chars(name.data() + 1, name.data() + name.size(), number);
    if (error != std::errc() || end != name.data() + name.size()) return slot.roster.size();
    const ContactGraph::Contacts contacts = _graph.contactsOf(slot.user.number());
    return static_cast<std::size_t>(std::find(contacts.begin(), contacts.end(), number) - contacts.begin());
}

void CrowdWorker::fireDeadlines()
{
    const auto now = Clock::now();
    while (!_deadlines.empty() && _deadlines.top().at <= now) {
        const Deadline due = _deadlines.top();
        _deadlines.pop();
        Slot& slot = _slots[due.slot];
        if (due.token == slot.token) expire(slot);
    }
}

void CrowdWorker::expire(Slot& slot)
{
    const bool attemptsLeft = slot.attempts < _settings.attempts;
    switch (slot.step) {
    case Step::LoggingIn:
        ++_report.resends;
        congested(slot);
        if (attemptsLeft) sendHello(slot);
        else giveUp(slot, std::string("no ")
                              + (slot.user.phase() == CrowdUser::Phase::AwaitingChallenge ? "challenge" : "welcome")
                              + " after " + std::to_string(slot.attempts) + " hellos");
        return;
    case Step::Declaring:
    case Step::Loading:
        congested(slot);
        [[fallthrough]];
    case Step::Changing:
    case Step::Online:
        ++_report.resends;
        if (attemptsLeft) sendDeclaration(slot);
        else giveUp(slot, "no declared and snapshot after " + std::to_string(slot.attempts) + " contact lists");
        return;
    case Step::Leaving:
        ++_report.resends;
        if (attemptsLeft) sendLogout(slot);
        else giveUp(slot, "no relogin after " + std::to_string(slot.attempts) + " logouts");
        return;
    case Step::Idle:
    case Step::Left:
    case Step::Failed: return;
    }
}

void CrowdWorker::answered(const Slot& slot)
{
    if (Clock::now() - slot.sentAt > _settings.retry / 4) congested(slot);
}

void CrowdWorker::congested(const Slot& slot)
{
    if (_phase != Phase::Logins || slot.sentAt < _lastCut) return;
    _lastCut = Clock::now();
    _slowStart = false;
    _window = std::max(1.0, _window / 2);
}

void CrowdWorker::sendHello(Slot& slot)
{
    ++slot.attempts;
    send(slot, Protocol::encode(slot.user.hello()));
    ++_report.hellos;
    schedule(slot, _settings.retry);
}

void CrowdWorker::sendDeclaration(Slot& slot)
{
    ++slot.attempts;
    if (slot.version == 0) {
        const auto wall = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
        _lastVersion = std::max(_lastVersion + 1, static_cast<std::uint64_t>(wall));
        slot.version = _lastVersion;
    }
    std::vector<std::string> names;
    const ContactGraph::Contacts contacts = _graph.contactsOf(slot.user.number());
    names.reserve(contacts.size());
    for (const std::uint32_t contact : contacts) names.push_back("u" + std::to_string(contact));
    const PresenceState state = slot.away ? PresenceState::Away : PresenceState::Online;
    for (const Seal& part : slot.user.declare(names, slot.version, state)) {
        send(slot, Protocol::encode(part));
        ++_report.declarations;
    }
    schedule(slot, _settings.retry);
}

void CrowdWorker::sendLogout(Slot& slot)
{
    ++slot.attempts;
    send(slot, Protocol::encode(slot.user.logout()));
    send(slot, Protocol::encode(slot.user.alive()));
    schedule(slot, _settings.retry);
}

void CrowdWorker::done(Slot& slot)
{
    if (slot.step != Step::Left) slot.step = Step::Online;
    ++slot.token;
    if (!slot.inWindow) return;
    slot.inWindow = false;
    --_inFlight;
    ++_report.actionsDone;
    _report.lastActionNs = nanoseconds(Clock::now());
    if (_phase == Phase::Logins)
        _window = std::min(static_cast<double>(_settings.window), _window + (_slowStart ? 1.0 : 1.0 / _window));
}

void CrowdWorker::giveUp(Slot& slot, const std::string& why)
{
    slot.user.fail();
    slot.step = Step::Failed;
    ++slot.token;  // no deadline of it fires any more
    if (slot.inWindow) {
        slot.inWindow = false;
        --_inFlight;
    }
    if (_report.failed++ == 0)
        std::snprintf(_report.detail, sizeof _report.detail, "%s: %s", slot.user.name().c_str(), why.c_str());
}

void CrowdWorker::send(Slot& slot, const std::string& bytes)
{
    slot.sentAt = Clock::now();
    // A datagram the kernel does not take (a full buffer) counts as lost: its step goes again.
    if (::send(slot.fd, bytes.data(), bytes.size(), MSG_DONTWAIT) < 0 && errno == ECONNREFUSED)
        giveUp(slot, "indexd's port is closed (ECONNREFUSED): is indexd running?");
}

void CrowdWorker::schedule(Slot& slot, std::chrono::milliseconds delay)
{
    ++slot.token;
    _deadlines.push(Deadline{Clock::now() + delay, static_cast<std::uint32_t>(&slot - _slots.data()), slot.token});
}

void CrowdWorker::report(Report::Kind kind)
{
    _report.kind = kind;
    _report.window = static_cast<std::uint64_t>(_window);
    _report.cpuNs = processCpuNs() - _cpuAtPhaseStart;
    if (::send(_parentFd, &_report, sizeof _report, MSG_NOSIGNAL) != static_cast<ssize_t>(sizeof _report))
        throw std::runtime_error("cannot report to the parent: " + errorText(errno));
}

} // namespace peerchat::bench
