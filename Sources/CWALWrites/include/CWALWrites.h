#ifndef CWALWRITES_H
#define CWALWRITES_H

/// Registers the "handover-wal" SQLite VFS as the process's default (once; later calls do nothing).
/// It is the system's default VFS except that a connection's writes to its WAL file are gathered
/// and written with one system call (pieces of 124 KiB for a large commit) before anyone can see
/// them. Returns an SQLite result code.
int handover_wal_writes_register(void);

/// For tests: the writes SQLite asked for on `connection`'s WAL (an `sqlite3 *` in WAL mode), and
/// the writes of the default VFS they became. SQLITE_NOTFOUND when its WAL is not open through this VFS.
int handover_wal_writes_counts(void *connection, long long *asked, long long *written);

/// Puts SQLite in multi-thread mode (no mutex on each connection) with memory statistics off (no
/// global mutex on each allocation), once; it must run before SQLite initialises, which the first
/// connection or VFS lookup does. Returns an SQLite result code (SQLITE_MISUSE when too late).
int handover_sqlite_configure(void);

#endif
