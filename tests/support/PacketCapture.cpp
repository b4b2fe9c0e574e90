#include "PacketCapture.h"

#include "SystemProgram.h"
#include "Wait.h"

#include <cppunit/extensions/HelperMacros.h>

#include <csignal>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <sstream>

namespace peerchat::test {

namespace {

std::uint32_t little32(const std::string& bytes, std::size_t at)
{
    return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at])) |
           static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at + 1])) << 8 |
           static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at + 2])) << 16 |
           static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at + 3])) << 24;
}

std::uint16_t big16(const std::string& bytes, std::size_t at)
{
    return static_cast<std::uint16_t>(static_cast<unsigned char>(bytes[at]) << 8 |
                                      static_cast<unsigned char>(bytes[at + 1]));
}

std::string ipv4Endpoint(const std::string& frame, std::size_t address, std::size_t port)
{
    std::ostringstream text;
    text << static_cast<int>(static_cast<unsigned char>(frame[address])) << '.'
         << static_cast<int>(static_cast<unsigned char>(frame[address + 1])) << '.'
         << static_cast<int>(static_cast<unsigned char>(frame[address + 2])) << '.'
         << static_cast<int>(static_cast<unsigned char>(frame[address + 3])) << ':' << big16(frame, port);
    return text.str();
}

// The UDP datagrams of a pcap file (https://wiki.wireshark.org/Development/LibpcapFileFormat)
// written by tcpdump on an Ethernet-framed interface (lo, a bridge): little-endian, IPv4.
std::vector<PacketCapture::Datagram> readPcap(const std::string& bytes)
{
    constexpr std::size_t kFileHeader = 24;
    constexpr std::size_t kRecordHeader = 16;
    constexpr std::size_t kEthernet = 14;
    CPPUNIT_ASSERT_MESSAGE("tcpdump wrote no pcap header", bytes.size() >= kFileHeader);
    const std::uint32_t magic = little32(bytes, 0);
    CPPUNIT_ASSERT_MESSAGE("not a little-endian pcap file", magic == 0xa1b2c3d4 || magic == 0xa1b23c4d);
    CPPUNIT_ASSERT_EQUAL_MESSAGE("link type of the interface (Ethernet)", std::uint32_t(1), little32(bytes, 20));

    std::vector<PacketCapture::Datagram> datagrams;
    for (std::size_t at = kFileHeader; at + kRecordHeader <= bytes.size();) {
        const std::size_t captured = little32(bytes, at + 8);
        const std::size_t start = at + kRecordHeader;
        CPPUNIT_ASSERT_MESSAGE("a truncated pcap record", start + captured <= bytes.size());
        const std::string frame = bytes.substr(start, captured);
        at = start + captured;
        if (frame.size() < kEthernet + 20 || big16(frame, 12) != 0x0800) continue;
        const std::size_t ip = kEthernet;
        const std::size_t ipHeader = (static_cast<unsigned char>(frame[ip]) & 0x0f) * 4u;
        if (static_cast<unsigned char>(frame[ip + 9]) != 17) continue;
        const std::size_t udp = ip + ipHeader;
        const std::size_t ipLength = big16(frame, ip + 2);
        CPPUNIT_ASSERT_MESSAGE("tcpdump cut a datagram short", ip + ipLength <= frame.size() && udp + 8 <= frame.size());
        datagrams.push_back({ipv4Endpoint(frame, ip + 12, udp), ipv4Endpoint(frame, ip + 16, udp + 2),
                             frame.substr(udp + 8, ip + ipLength - udp - 8)});
    }
    return datagrams;
}

} // namespace

int PacketCapture::portOf(const std::string& endpoint)
{
    return std::stoi(endpoint.substr(endpoint.rfind(':') + 1));
}

PacketCapture::PacketCapture(const std::vector<int>& ports, const CaptureInterface& where)
{
    std::string filter = "udp";
    for (std::size_t i = 0; i < ports.size(); ++i) filter += (i ? " or port " : " and (port ") + std::to_string(ports[i]);
    if (!ports.empty()) filter += ")";
    // -U writes each packet as it comes; -Z root keeps tcpdump able to write
    // into this private directory after it drops its privileges.
    _tcpdump = std::make_unique<DaemonProcess>(
        systemProgram("tcpdump", "tcpdump"),
        std::vector<std::string>{"-i", where.name, "-n", "-U", "-Z", "root", "-w", _dir.file("capture.pcap"), filter});
    if (!where.launcher.empty()) _tcpdump->setCommandPrefix(where.launcher);
    _tcpdump->start();
    if (!_tcpdump->waitForLog("listening on " + where.name)) {
        CPPUNIT_FAIL("tcpdump did not start capturing on " + where.name + " (it needs root or CAP_NET_RAW); its output:\n" +
                     _tcpdump->log());
    }
}

PacketCapture::~PacketCapture() = default;

std::string PacketCapture::fileBytes() const
{
    std::ifstream file(_dir.file("capture.pcap"), std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
}

bool PacketCapture::waitCaptured(const std::string& bytes, std::chrono::milliseconds timeout)
{
    return waitUntil([&] { return fileBytes().find(bytes) != std::string::npos; }, timeout);
}

std::vector<PacketCapture::Datagram> PacketCapture::stop()
{
    _tcpdump->signal(SIGINT);
    const int status = _tcpdump->waitExit();
    CPPUNIT_ASSERT_EQUAL_MESSAGE("tcpdump's exit; its output:\n" + _tcpdump->log(), 0, status);
    return readPcap(fileBytes());
}

} // namespace peerchat::test
