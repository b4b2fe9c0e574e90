#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace peerchat {

/// An append-only log of numbered records: what peerd has promised to keep
/// but not yet written to its database. A record is in the operating
/// system's hands when append() returns, so it survives a crash of the
/// process (kill -9), as a commit with SQLite's synchronous = NORMAL does; a
/// power cut may lose the last ones, never damage those before. Each record
/// is framed with its length and a CRC-32C (a record an older peerd wrote:
/// a CRC-32, read all the same), so a torn or damaged tail is recognised
/// when the file is opened and cut off there.
///
/// Records are copied into a shared mapping of the file (the page cache
/// itself, where a write() would have put them), not written with a system
/// call each: the file is allocated ahead, kChunk bytes at a time, so that a
/// full disk refuses the append that needs more room, and never surprises a
/// later store into the mapping.
///
/// The log is two files that take turns (path, and path + "2"): once the
/// one taking records holds kTurnAt bytes, records go to the other as soon
/// as that one is empty. release() empties a file whose records are all in
/// the database by starting it over from its first byte, keeping its pages
/// and its mapping: a new page of the page cache, and the first store into
/// it, cost more than the record copied there (docs/PERFORMANCE.md,
/// thirteenth step). A file so started over still holds records of its
/// earlier rounds after the new ones; they are told apart by their numbers,
/// which the owner gives one after another: the records read back from a
/// file are those that follow each other from its start, so an earlier
/// round's record (a lower number), even a whole page of one that a power
/// cut kept in place of a newer page, ends them.
/// A file is mapped from its start up to kMostKept; one that grows past that
/// (the writer far behind) maps only its last part, so that a log that grows
/// under load does not grow the process's memory with it. Closed, a file
/// holds just its records.
/// Not thread-safe: its owner serialises the calls.
class RedoLog
{
public:
    struct Record
    {
        std::uint64_t seq = 0;  ///< the record's number, given by the owner, one more than the last
        std::string payload;
    };

    /// Opens (creating them with mode 0600) the log's files at path and
    /// path + "2", and reads the records they hold, each up to the first that
    /// is torn, damaged or out of turn, where the file is cut off. Throws
    /// Poco::IOException saying why it cannot.
    explicit RedoLog(std::string path);
    ~RedoLog();
    RedoLog(const RedoLog&) = delete;
    RedoLog& operator=(const RedoLog&) = delete;

    /// The records the files held when they were opened, by seq (once: they are moved out).
    std::vector<Record> takeRecovered() { return std::move(_recovered); }

    /// Appends record. Throws Poco::IOException whose code() is the errno of
    /// the failure (ENOSPC on a full disk); the files are then as before.
    void append(std::uint64_t seq, std::string_view payload);

    /// Makes sure the disk has room for bytes more after the last record
    /// (allocating it); throws as append() does when not.
    void reserve(std::uint64_t bytes);

    /// True when release(applied) would empty a file.
    bool releases(std::uint64_t applied) const;

    /// Empties each file that holds kTurnAt bytes or more, all of them in
    /// records with a seq of at most applied (they are in the database and
    /// safe there), keeping its pages for the next round.
    void release(std::uint64_t applied);

    /// Empties both files and gives their room back to the disk.
    void clear();

    /// How many bytes the records take.
    std::uint64_t size() const;

    const std::string& path() const { return _path; }

    /// How much a file grows by when a record does not fit.
    static constexpr std::uint64_t kChunk = 256 << 10;
    /// How big a file gets before records go to the other one.
    static constexpr std::uint64_t kTurnAt = 1 << 20;
    /// How much of a file, from its start, stays mapped.
    static constexpr std::uint64_t kMostKept = 4 << 20;

private:
    class File;
    /// The file the next record goes to.
    std::size_t next() const;

    std::string _path;
    std::unique_ptr<File> _files[2];
    std::size_t _taking = 0;  ///< the file the last record went to
    std::vector<Record> _recovered;
};

} // namespace peerchat
