// indexd under 1,000 simulated seed clients: each logs in in turn, waits for
// its Accept and reads the roster, as the seed does (which is what puts a
// plain login online), while every earlier user receives the login
// broadcast. Beside it, in the same run, the same work against a minimal
// server written with plain sockets. See docs/PERFORMANCE.md.
#include "BenchStats.h"
#include "DaemonProcess.h"

#include <arpa/inet.h>
#include <csignal>
#include <deque>
#include <poll.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <netinet/in.h>
#include <stdexcept>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace peerchat;
using bench::Clock;
using bench::Samples;

namespace {

std::string print(const sockaddr_in& a)
{
    char host[INET_ADDRSTRLEN];
    ::inet_ntop(AF_INET, &a.sin_addr, host, sizeof host);
    return std::string(host) + ":" + std::to_string(ntohs(a.sin_port));
}

sockaddr_in parse(const std::string& endpoint)
{
    sockaddr_in a{};
    a.sin_family = AF_INET;
    const auto colon = endpoint.rfind(':');
    ::inet_pton(AF_INET, endpoint.substr(0, colon).c_str(), &a.sin_addr);
    a.sin_port = htons(static_cast<std::uint16_t>(std::stoi(endpoint.substr(colon + 1))));
    return a;
}

int boundUdp(sockaddr_in& bound)
{
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    bound = sockaddr_in{};
    bound.sin_family = AF_INET;
    bound.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&bound), sizeof bound) != 0) throw std::runtime_error("bind failed");
    socklen_t length = sizeof bound;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length);
    return fd;
}

struct Result
{
    Samples loginRoundTrip;
    double seconds = 0;
    std::size_t broadcasts = 0;
    std::size_t expected = 0;
};

/// users simulated clients, one UDP socket each, all read through one epoll.
class Crowd
{
public:
    explicit Crowd(int users)
    {
        _epoll = ::epoll_create1(EPOLL_CLOEXEC);
        for (int i = 0; i < users; ++i) {
            sockaddr_in bound{};
            const int fd = boundUdp(bound);
            _fds.push_back(fd);
            _endpoints.push_back(print(bound));
            epoll_event ev{};
            ev.events = EPOLLIN;
            ev.data.u32 = static_cast<std::uint32_t>(i);
            ::epoll_ctl(_epoll, EPOLL_CTL_ADD, fd, &ev);
        }
    }
    ~Crowd()
    {
        for (int fd : _fds) ::close(fd);
        ::close(_epoll);
    }

    /// Logs every user in to server; each reads the roster from the port
    /// its Accept names before the next logs in, as the seed does.
    Result run(const std::string& server)
    {
        const sockaddr_in to = parse(server);
        Result r;
        const std::size_t n = _fds.size();
        r.expected = n * (n - 1) / 2;
        const auto start = Clock::now();
        for (std::size_t i = 0; i < n; ++i) {
            const std::string login = "login,user" + std::to_string(i) + "," + _endpoints[i];
            const auto sent = Clock::now();
            ::sendto(_fds[i], login.data(), login.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
            int port = 0;
            while (port == 0) {
                if (!pump(r, static_cast<int>(i), port, 5000)) throw std::runtime_error("no Accept for user" + std::to_string(i));
            }
            r.loginRoundTrip.add(Clock::now() - sent);
            readRoster(port);
        }
        // The fan-out of the last logins may still be in flight.
        int unused = 0;
        while (r.broadcasts < r.expected && pump(r, -1, unused, 1000)) {
        }
        r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
        return r;
    }

private:
    // Reads what is ready; sets port to the one its Accept names when user
    // `waiting` got it. False when nothing arrived within timeoutMs.
    bool pump(Result& r, int waiting, int& port, int timeoutMs)
    {
        epoll_event events[256];
        const int ready = ::epoll_wait(_epoll, events, 256, timeoutMs);
        if (ready <= 0) return false;
        char buffer[2048];
        for (int k = 0; k < ready; ++k) {
            const int user = static_cast<int>(events[k].data.u32);
            ssize_t got;
            while ((got = ::recv(_fds[static_cast<std::size_t>(user)], buffer, sizeof buffer, MSG_DONTWAIT)) > 0) {
                if (std::strncmp(buffer, "Accept,", 7) == 0) {
                    if (user == waiting) port = std::atoi(std::string(buffer + 7, static_cast<std::size_t>(got) - 7).c_str());
                } else if (std::strncmp(buffer, "login,", 6) == 0) {
                    ++r.broadcasts;
                }
            }
        }
        return true;
    }

    // Connects to port on loopback and reads until indexd closes.
    static void readRoster(int port)
    {
        const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        to.sin_port = htons(static_cast<std::uint16_t>(port));
        if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
            ::close(fd);
            throw std::runtime_error("cannot connect to the roster port " + std::to_string(port));
        }
        char buffer[65536];
        while (::recv(fd, buffer, sizeof buffer, 0) > 0) {
        }
        ::close(fd);
    }

    int _epoll = -1;
    std::vector<int> _fds;
    std::vector<std::string> _endpoints;
};

/// The reference: a server that does only what the wire demands, without
/// checks, in the order indexd does it: reply Accept naming its roster port;
/// when a roster connection comes, put the oldest waiting login online, tell
/// everyone else, write the roster and close.
class PlainFanOut
{
public:
    PlainFanOut()
    {
        sockaddr_in bound{};
        _fd = boundUdp(bound);
        _address = print(bound);
        _listen = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in tcp{};
        tcp.sin_family = AF_INET;
        tcp.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t length = sizeof tcp;
        if (::bind(_listen, reinterpret_cast<sockaddr*>(&tcp), sizeof tcp) != 0 || ::listen(_listen, 128) != 0 ||
            ::getsockname(_listen, reinterpret_cast<sockaddr*>(&tcp), &length) != 0)
            throw std::runtime_error("cannot listen for rosters");
        _rosterPort = ntohs(tcp.sin_port);
        _thread = std::thread([this] { serve(); });
    }
    ~PlainFanOut()
    {
        const char stop = 0;
        const sockaddr_in self = parse(_address);
        ::sendto(_fd, &stop, 1, 0, reinterpret_cast<const sockaddr*>(&self), sizeof self);
        _thread.join();
        ::close(_listen);
        ::close(_fd);
    }
    const std::string& address() const { return _address; }

private:
    void serve()
    {
        std::vector<std::pair<std::string, sockaddr_in>> users;
        std::deque<std::pair<std::string, sockaddr_in>> waiting;
        const std::string accept = "Accept," + std::to_string(_rosterPort);
        char buffer[2048];
        while (true) {
            pollfd fds[2] = {{_fd, POLLIN, 0}, {_listen, POLLIN, 0}};
            if (::poll(fds, 2, -1) < 0) return;
            if (fds[0].revents & POLLIN) {
                sockaddr_in from{};
                socklen_t length = sizeof from;
                const ssize_t n =
                    ::recvfrom(_fd, buffer, sizeof buffer, 0, reinterpret_cast<sockaddr*>(&from), &length);
                if (n <= 1) return;
                const std::string text(buffer, static_cast<std::size_t>(n));
                const auto comma = text.find(',', 6);
                waiting.emplace_back(text.substr(6, comma - 6), from);
                ::sendto(_fd, accept.data(), accept.size(), 0, reinterpret_cast<sockaddr*>(&from), length);
            }
            if ((fds[1].revents & POLLIN) == 0) continue;
            const int client = ::accept4(_listen, nullptr, nullptr, SOCK_CLOEXEC);
            if (client < 0) continue;
            if (!waiting.empty()) {
                const auto [name, from] = waiting.front();
                waiting.pop_front();
                const std::string announce = "login," + name + "," + print(from);
                for (const auto& user : users) {
                    ::sendto(_fd, announce.data(), announce.size(), 0,
                             reinterpret_cast<const sockaddr*>(&user.second), sizeof user.second);
                }
                users.emplace_back(name, from);
            }
            std::string roster;
            for (const auto& [name, endpoint] : users) roster += name + "," + print(endpoint) + ";";
            roster += "end";
            for (std::size_t sent = 0; sent < roster.size();) {
                const ssize_t n = ::send(client, roster.data() + sent, roster.size() - sent, MSG_NOSIGNAL);
                if (n <= 0) break;
                sent += static_cast<std::size_t>(n);
            }
            ::close(client);
        }
    }

    int _fd = -1;
    int _listen = -1;
    std::uint16_t _rosterPort = 0;
    std::string _address;
    std::thread _thread;
};

void report(const char* label, Result& r)
{
    std::printf("  %-22s %6.3f s total, %9.0f fan-out datagrams/s, %zu/%zu broadcasts received, login rtt p50 %.1f us p99 %.1f us\n",
                label, r.seconds, static_cast<double>(r.broadcasts) / r.seconds, r.broadcasts, r.expected,
                r.loginRoundTrip.percentile(50), r.loginRoundTrip.percentile(99));
}

} // namespace

int main(int argc, char** argv)
{
    std::signal(SIGPIPE, SIG_IGN);
    const int users = argc > 1 ? std::atoi(argv[1]) : 1000;
    try {
        Result reference;
        {
            PlainFanOut plain;
            Crowd crowd(users);
            reference = crowd.run(plain.address());
        }
        Result measured;
        {
            // Seed clients need legacy mode; all of them come from 127.0.0.1, so the
            // per-address login rate and login limit must let them all in.
            test::DaemonProcess indexd("indexd", {"--port", "0", "--bind", "127.0.0.1", "--log-level", "warning",
                                                  "--legacy", "--login-rate", "1000000", "--logins-per-minute",
                                                  "1000000"});
            indexd.start();
            const std::string address = indexd.waitReady()["udp"];
            Crowd crowd(users);
            measured = crowd.run(address);
        }
        std::printf("indexd: %d users log in one after another, each reading the roster after its Accept; each login "
                    "is announced to all earlier users:\n",
                    users);
        report("plain sockets", reference);
        report("indexd", measured);
        std::printf("  ratio indexd/plain: total time %.2f, login rtt p50 %.2f\n", measured.seconds / reference.seconds,
                    measured.loginRoundTrip.percentile(50) / reference.loginRoundTrip.percentile(50));
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "IndexBench failed: %s\n", e.what());
        return 1;
    }
}
