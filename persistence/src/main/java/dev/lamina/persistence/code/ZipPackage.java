package dev.lamina.persistence.code;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * Reads and checks a code package (a zip) and extracts it safely.
 *
 * <p>The package is read the way unzip tools read it: from its central directory, each entry's
 * data found through its local header. Nothing a header says is trusted without being checked:
 * an entry is inflated and counted, and refused at the first byte beyond the size its header
 * declares, or when its size or CRC-32 turn out different; entries whose data overlap (the
 * trick of "non-recursive" zip bombs, many entries inflating the same bytes) are refused.
 *
 * <p>Refused as well: entries that would land outside the extraction directory ({@code ../},
 * absolute paths, drive letters, backslashes), symlinks (Unix mode {@code S_IFLNK}: extraction
 * never creates links, so none can point out of the code), two entries for one path, a file
 * where another entry needs a directory, encrypted entries, compression methods other than
 * stored and deflated, more than {@link #MAX_ENTRIES} entries, names over {@link #MAX_NAME_BYTES}.
 *
 * <p>Size: the declared sizes are summed first and a package over the unzipped limit is refused
 * without inflating anything (Lambda's "Unzipped size must be smaller than …"); since no entry
 * may inflate past its declared size, the declared total bounds the work of every check.
 *
 * <p>Ratio: a package may unzip to at most {@link #MAX_RATIO} times its zipped size once it
 * unzips to more than {@link #RATIO_FREE_BYTES}. Real packages (code, libraries, binaries,
 * data) unzip to 2–10 times their size, very repetitive text to some tens; only long runs of
 * one byte come near Deflate's ceiling of about 1032:1, which is what bombs are made of. The
 * rule bounds what a small upload can make the node inflate (64 MiB, or 200 bytes per byte
 * received) and is checked on the declared sizes, so a bomb costs nothing to refuse. A
 * per-entry ratio would add no protection beyond that (the total bounds the work) and would
 * refuse legitimate sparse files inside otherwise ordinary packages.
 *
 * <p>java.util.zip does not expose the Unix mode bits that zip tools record, and Lambda honours
 * them (a custom runtime's {@code bootstrap} must be executable): extraction keeps the
 * executable bit. Extracted directories are 0755 and files 0444 or 0555, whatever the umask,
 * so sandboxes running as other users can read (and run) the code but nobody writes it.
 */
public final class ZipPackage {

  /** Why a package was refused; the HTTP layer maps it to the Lambda error. */
  public static final class InvalidPackageException extends Exception {
    private final boolean tooLargeUnzipped;

    InvalidPackageException(String detail, boolean tooLargeUnzipped) {
      super(detail);
      this.tooLargeUnzipped = tooLargeUnzipped;
    }

    /** True when the package is a valid zip whose content exceeds the unzipped limit. */
    public boolean tooLargeUnzipped() {
      return tooLargeUnzipped;
    }
  }

  /** More entries than a real package has (large node_modules trees hold some tens of thousands). */
  public static final int MAX_ENTRIES = 100_000;
  /** Longest entry name, in bytes: deep node_modules paths stay far below; Linux paths stop at 4096. */
  public static final int MAX_NAME_BYTES = 2048;
  /** Unzipped bytes per zipped byte allowed beyond {@link #RATIO_FREE_BYTES}. */
  public static final int MAX_RATIO = 200;
  /** Unzipped size up to which the ratio is not looked at. */
  public static final long RATIO_FREE_BYTES = 64L * 1024 * 1024;

  private static final int LOCAL_SIGNATURE = 0x04034b50;
  private static final int CENTRAL_SIGNATURE = 0x02014b50;
  private static final int EOCD_SIGNATURE = 0x06054b50;
  private static final int ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
  private static final int ZIP64_EOCD_SIGNATURE = 0x06064b50;
  private static final int EOCD_LENGTH = 22;
  private static final int UNIX_HOST = 3;
  private static final int S_IFMT = 0170000;
  private static final int S_IFLNK = 0120000;
  private static final int STORED = 0;
  private static final int DEFLATED = 8;
  private static final int FLAG_ENCRYPTED = 1;
  private static final int FLAG_UTF8 = 1 << 11;
  private static final long U32 = 0xFFFFFFFFL;

  private static final Set<PosixFilePermission> DIRECTORY = PosixFilePermissions.fromString("rwxr-xr-x");
  private static final Set<PosixFilePermission> READ_ONLY = PosixFilePermissions.fromString("r--r--r--");
  private static final Set<PosixFilePermission> READ_EXEC = PosixFilePermissions.fromString("r-xr-xr-x");

  /** One checked entry: where its data is, what it declares, where it goes. */
  private record Entry(String path, boolean directory, boolean executable, int method, long dataStart,
      long compressedSize, long size, long crc) {}

  /** Where inflated bytes go: nowhere while inspecting, a file while extracting. */
  @FunctionalInterface
  private interface Sink {
    void write(byte[] buffer, int length) throws IOException;
  }

  private final byte[] zip;
  private final List<Entry> entries;
  private final long unzippedSize;

  private ZipPackage(byte[] zip, List<Entry> entries, long unzippedSize) {
    this.zip = zip;
    this.entries = entries;
    this.unzippedSize = unzippedSize;
  }

  /**
   * Checks that {@code zip} is a readable, safe zip of at most {@code maxUnzippedBytes} of
   * content: every entry is inflated (into nothing) and its size and CRC-32 verified.
   */
  public static ZipPackage inspect(byte[] zip, long maxUnzippedBytes) throws InvalidPackageException {
    List<Entry> entries;
    try {
      entries = readCentralDirectory(zip);
    } catch (IndexOutOfBoundsException e) {
      // Every read is bounds-checked above; this is the net under a check that was missed.
      throw corrupt("damaged archive structure");
    }
    long declared = 0;
    for (Entry e : entries) {
      if (e.size() > maxUnzippedBytes - declared) {
        throw new InvalidPackageException("unzipped size exceeds " + maxUnzippedBytes, true);
      }
      declared += e.size();
    }
    if (declared > RATIO_FREE_BYTES && declared / MAX_RATIO > zip.length) {
      throw new InvalidPackageException("unzips to " + declared + " bytes from " + zip.length
          + ": more than " + MAX_RATIO + " times its size", false);
    }
    ZipPackage checked = new ZipPackage(zip, entries, declared);
    byte[] buffer = new byte[64 * 1024];
    try {
      for (Entry e : entries) {
        checked.inflate(e, buffer, (b, n) -> { });
      }
    } catch (IOException e) {
      throw new InvalidPackageException(e.getMessage(), false);
    }
    return checked;
  }

  public long unzippedSize() {
    return unzippedSize;
  }

  /** Entries in the central directory (files and directories). */
  public int entryCount() {
    return entries.size();
  }

  /**
   * Extracts every entry under {@code target} (which must exist; it is made 0755). A file already
   * there is replaced, so packages extracted one after the other overlay each other. Every
   * entry's size and CRC-32 are verified again as it is written, and no path leaves
   * {@code target}; on failure {@code target} holds part of the package and the caller deletes
   * it.
   */
  public void extractTo(Path target) throws IOException {
    Path root = target.toAbsolutePath().normalize();
    Files.setPosixFilePermissions(root, DIRECTORY);
    byte[] buffer = new byte[64 * 1024];
    for (Entry entry : entries) {
      if (entry.path().isEmpty()) {
        continue;  // "./"
      }
      Path out = root.resolve(entry.path()).normalize();
      if (!out.startsWith(root) || out.equals(root)) {
        throw new IOException("entry escapes the extraction directory: " + entry.path());
      }
      if (entry.directory()) {
        directories(root, out);
        continue;
      }
      directories(root, out.getParent());
      if (Files.isDirectory(out, LinkOption.NOFOLLOW_LINKS)) {
        CodeFiles.deleteTree(out);  // an earlier package's directory where this one has a file: the file wins
      } else {
        Files.deleteIfExists(out);  // an earlier package's file (read-only): replace it, never write into it
      }
      // CREATE_NEW: fails rather than follow anything that appeared at this name meanwhile.
      try (OutputStream os = Files.newOutputStream(out, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        inflate(entry, buffer, (b, n) -> os.write(b, 0, n));
      }
      Files.setPosixFilePermissions(out, entry.executable() ? READ_EXEC : READ_ONLY);
    }
  }

  /**
   * Creates {@code dir} and its parents below {@code root} (0755); where an earlier package left
   * a file in the way, the directory of this package replaces it (later packages win).
   */
  private static void directories(Path root, Path dir) throws IOException {
    Path current = root;
    for (Path part : root.relativize(dir)) {
      current = current.resolve(part);
      if (Files.isDirectory(current, LinkOption.NOFOLLOW_LINKS)) {
        continue;
      }
      Files.deleteIfExists(current);
      Files.createDirectory(current);
      Files.setPosixFilePermissions(current, DIRECTORY);
    }
  }

  /**
   * Inflates one entry into {@code sink}, stopping at the first byte past its declared size;
   * its size and CRC-32 must be the declared ones.
   */
  private void inflate(Entry e, byte[] buffer, Sink sink) throws IOException {
    CRC32 crc = new CRC32();
    long written = 0;
    if (e.method() == STORED) {
      for (long done = 0; done < e.size(); ) {
        int n = (int) Math.min(buffer.length, e.size() - done);
        System.arraycopy(zip, (int) (e.dataStart() + done), buffer, 0, n);
        crc.update(buffer, 0, n);
        sink.write(buffer, n);
        done += n;
      }
      written = e.size();
    } else {
      Inflater inflater = new Inflater(true);
      try {
        inflater.setInput(zip, (int) e.dataStart(), (int) e.compressedSize());
        boolean padded = false;
        while (!inflater.finished()) {
          int n = inflater.inflate(buffer);
          if (n == 0) {
            if (inflater.needsDictionary()) {
              throw new IOException("entry " + e.path() + " needs a preset dictionary");
            }
            if (inflater.needsInput()) {
              if (padded) {
                throw new IOException("entry " + e.path() + " ends before its compressed data does");
              }
              // zlib may want one byte past a raw deflate stream to see its end (as java.util.zip gives it).
              inflater.setInput(new byte[1]);
              padded = true;
              continue;
            }
            throw new IOException("entry " + e.path() + " makes no progress inflating");
          }
          written += n;
          if (written > e.size()) {
            throw new IOException("entry " + e.path() + " inflates past its declared " + e.size() + " bytes");
          }
          crc.update(buffer, 0, n);
          sink.write(buffer, n);
        }
      } catch (DataFormatException ex) {
        throw new IOException("entry " + e.path() + " is not valid deflate data", ex);
      } finally {
        inflater.end();
      }
    }
    if (written != e.size()) {
      throw new IOException("entry " + e.path() + " has " + written + " bytes, not the declared " + e.size());
    }
    if (crc.getValue() != e.crc()) {
      throw new IOException("entry " + e.path() + " fails its CRC-32 check");
    }
  }

  // ---- the central directory ----------------------------------------------------------------

  private static List<Entry> readCentralDirectory(byte[] zip) throws InvalidPackageException {
    ByteBuffer buf = ByteBuffer.wrap(zip).order(ByteOrder.LITTLE_ENDIAN);
    int eocd = findEndOfCentralDirectory(buf, zip.length);
    if (Short.toUnsignedInt(buf.getShort(eocd + 4)) != 0 || Short.toUnsignedInt(buf.getShort(eocd + 6)) != 0) {
      throw corrupt("multi-disk archive");
    }
    long count = Short.toUnsignedInt(buf.getShort(eocd + 10));
    long cdSize = Integer.toUnsignedLong(buf.getInt(eocd + 12));
    long cdOffset = Integer.toUnsignedLong(buf.getInt(eocd + 16));
    long cdLimit = eocd;
    if (count == 0xFFFF || cdSize == U32 || cdOffset == U32) {
      // Zip64: the real values are in the zip64 end record, found through the locator before the end record.
      int locator = eocd - 20;
      if (locator < 0 || buf.getInt(locator) != ZIP64_LOCATOR_SIGNATURE) {
        if (count != 0xFFFF || cdSize == U32 || cdOffset == U32) {
          throw corrupt("zip64 sizes without a zip64 locator");
        }
      } else {
        long record = buf.getLong(locator + 8);
        if (record < 0 || record > locator - 56 || buf.getInt((int) record) != ZIP64_EOCD_SIGNATURE) {
          throw corrupt("bad zip64 end of central directory");
        }
        count = buf.getLong((int) record + 32);
        cdSize = buf.getLong((int) record + 40);
        cdOffset = buf.getLong((int) record + 48);
        cdLimit = record;
      }
    }
    if (count <= 0) {
      throw corrupt(count == 0 ? "no entries" : "a negative entry count");  // zip64 counts are signed here
    }
    if (count > MAX_ENTRIES) {
      throw corrupt(count + " entries: more than " + MAX_ENTRIES);
    }
    if (cdOffset < 0 || cdSize < 0 || cdOffset + cdSize > cdLimit) {
      throw corrupt("central directory outside the archive");
    }
    List<Located> located = new ArrayList<>((int) count);
    int p = (int) cdOffset;
    int end = (int) (cdOffset + cdSize);
    for (long i = 0; i < count; i++) {
      if (p + 46 > end || buf.getInt(p) != CENTRAL_SIGNATURE) {
        throw corrupt("central directory entry " + i + " is damaged");
      }
      int nameLength = Short.toUnsignedInt(buf.getShort(p + 28));
      int extraLength = Short.toUnsignedInt(buf.getShort(p + 30));
      int commentLength = Short.toUnsignedInt(buf.getShort(p + 32));
      int next = p + 46 + nameLength + extraLength + commentLength;
      if (next > end) {
        throw corrupt("central directory entry " + i + " is damaged");
      }
      located.add(centralEntry(zip, buf, p, nameLength, extraLength));
      p = next;
    }
    checkLayout(zip, buf, located, cdOffset);
    return checkPaths(located);
  }

  /** The end record: the last signature whose comment fits in the file (a comment may contain anything). */
  private static int findEndOfCentralDirectory(ByteBuffer buf, int length) throws InvalidPackageException {
    for (int i = length - EOCD_LENGTH; i >= Math.max(0, length - EOCD_LENGTH - 65535); i--) {
      if (buf.getInt(i) == EOCD_SIGNATURE && i + EOCD_LENGTH + Short.toUnsignedInt(buf.getShort(i + 20)) <= length) {
        return i;
      }
    }
    throw corrupt("not a zip: no end of central directory record");
  }

  /** An entry as the central directory gives it, before its local header is checked. */
  private static final class Located {
    final byte[] rawName;
    final String name;
    final boolean symlink;
    final boolean executable;
    final int flags;
    final int method;
    final long compressedSize;
    final long size;
    final long crc;
    final long localOffset;
    long dataStart;   // set once the local header is checked

    Located(byte[] rawName, String name, boolean symlink, boolean executable, int flags, int method,
        long compressedSize, long size, long crc, long localOffset) {
      this.rawName = rawName;
      this.name = name;
      this.symlink = symlink;
      this.executable = executable;
      this.flags = flags;
      this.method = method;
      this.compressedSize = compressedSize;
      this.size = size;
      this.crc = crc;
      this.localOffset = localOffset;
    }
  }

  private static Located centralEntry(byte[] zip, ByteBuffer buf, int p, int nameLength, int extraLength)
      throws InvalidPackageException {
    int madeBy = Short.toUnsignedInt(buf.getShort(p + 4)) >>> 8;
    int flags = Short.toUnsignedInt(buf.getShort(p + 8));
    int method = Short.toUnsignedInt(buf.getShort(p + 10));
    long crc = Integer.toUnsignedLong(buf.getInt(p + 16));
    long compressedSize = Integer.toUnsignedLong(buf.getInt(p + 20));
    long size = Integer.toUnsignedLong(buf.getInt(p + 24));
    int disk = Short.toUnsignedInt(buf.getShort(p + 34));
    int external = buf.getInt(p + 38);
    long localOffset = Integer.toUnsignedLong(buf.getInt(p + 42));
    byte[] rawName = Arrays.copyOfRange(zip, p + 46, p + 46 + nameLength);
    String name = decodeName(rawName, flags);
    // Zip64 extra field: the 64-bit values of the fields set to all ones, in this order.
    if (size == U32 || compressedSize == U32 || localOffset == U32) {
      int e = p + 46 + nameLength;
      int extraEnd = e + extraLength;
      boolean found = false;
      while (e + 4 <= extraEnd) {
        int id = Short.toUnsignedInt(buf.getShort(e));
        int length = Short.toUnsignedInt(buf.getShort(e + 2));
        if (e + 4 + length > extraEnd) {
          break;
        }
        if (id == 0x0001) {
          int q = e + 4;
          int qEnd = q + length;
          if (size == U32 && q + 8 <= qEnd) {
            size = buf.getLong(q);
            q += 8;
          }
          if (compressedSize == U32 && q + 8 <= qEnd) {
            compressedSize = buf.getLong(q);
            q += 8;
          }
          if (localOffset == U32 && q + 8 <= qEnd) {
            localOffset = buf.getLong(q);
          }
          found = true;
          break;
        }
        e += 4 + length;
      }
      if (!found) {
        throw corrupt("entry " + name + " lacks its zip64 sizes");
      }
    }
    if (size < 0 || compressedSize < 0 || localOffset < 0 || disk != 0) {
      throw corrupt("entry " + name + " has impossible sizes");
    }
    int mode = madeBy == UNIX_HOST ? external >>> 16 : 0;
    boolean symlink = (mode & S_IFMT) == S_IFLNK;
    boolean executable = mode != 0 ? (mode & 0111) != 0 : isConventionalExecutable(name);
    return new Located(rawName, name, symlink, executable, flags, method, compressedSize, size, crc, localOffset);
  }

  /**
   * Every entry's local header must be where the central directory says, name the same entry,
   * and its data must end before the next entry begins: no two entries share bytes.
   */
  private static void checkLayout(byte[] zip, ByteBuffer buf, List<Located> located, long cdOffset)
      throws InvalidPackageException {
    List<Located> byOffset = new ArrayList<>(located);
    byOffset.sort(Comparator.comparingLong(l -> l.localOffset));
    long previousEnd = 0;
    for (Located l : byOffset) {
      if ((l.flags & FLAG_ENCRYPTED) != 0) {
        throw corrupt("entry " + l.name + " is encrypted");
      }
      if (l.method != STORED && l.method != DEFLATED) {
        throw corrupt("entry " + l.name + " uses compression method " + l.method);
      }
      if (l.method == STORED && l.compressedSize != l.size) {
        throw corrupt("stored entry " + l.name + " has two sizes");
      }
      if (l.localOffset < previousEnd || l.localOffset + 30 > cdOffset) {
        throw corrupt("entry " + l.name + " overlaps another");
      }
      int p = (int) l.localOffset;
      if (buf.getInt(p) != LOCAL_SIGNATURE) {
        throw corrupt("entry " + l.name + " has no local header");
      }
      int nameLength = Short.toUnsignedInt(buf.getShort(p + 26));
      int extraLength = Short.toUnsignedInt(buf.getShort(p + 28));
      long dataStart = l.localOffset + 30 + nameLength + extraLength;
      if (dataStart + l.compressedSize > cdOffset) {
        throw corrupt("entry " + l.name + " extends past the archive");
      }
      if (!Arrays.equals(zip, p + 30, p + 30 + nameLength, l.rawName, 0, l.rawName.length)) {
        throw corrupt("entry " + l.name + " has another name in its local header");
      }
      previousEnd = dataStart + l.compressedSize;
      l.dataStart = dataStart;
    }
  }

  /**
   * Names: safe, relative, distinct, and no file where another entry needs a directory. Returns
   * the entries to extract, in central directory order.
   */
  private static List<Entry> checkPaths(List<Located> located) throws InvalidPackageException {
    List<Entry> entries = new ArrayList<>(located.size());
    Set<String> files = new HashSet<>();
    Set<String> directories = new HashSet<>();
    for (Located l : located) {
      if (l.symlink) {
        throw corrupt("symlink entry " + l.name);
      }
      boolean directory = l.name.endsWith("/");
      String path = relativePath(l.name, l.rawName.length);
      if (path.isEmpty()) {
        if (!directory || l.size != 0) {
          throw corrupt("entry " + l.name + " names the extraction directory itself");
        }
        // "./": the root, which exists; its (empty) data is still checked.
        entries.add(new Entry("", true, false, l.method, l.dataStart, l.compressedSize, l.size, l.crc));
        continue;
      }
      entries.add(new Entry(path, directory, l.executable, l.method, l.dataStart, l.compressedSize, l.size, l.crc));
      if (directory) {
        if (l.size != 0) {
          throw corrupt("directory entry " + l.name + " has content");
        }
        directories.add(path);
      } else if (!files.add(path)) {
        throw corrupt("two entries for " + path);
      }
    }
    for (String file : files) {
      if (directories.contains(file)) {
        throw corrupt(file + " is both a file and a directory");
      }
      for (int slash = file.indexOf('/'); slash > 0; slash = file.indexOf('/', slash + 1)) {
        if (files.contains(file.substring(0, slash))) {
          throw corrupt(file.substring(0, slash) + " is both a file and a directory");
        }
      }
    }
    for (String dir : directories) {
      for (int slash = dir.indexOf('/'); slash > 0; slash = dir.indexOf('/', slash + 1)) {
        if (files.contains(dir.substring(0, slash))) {
          throw corrupt(dir.substring(0, slash) + " is both a file and a directory");
        }
      }
    }
    return entries;
  }

  /**
   * The entry's path relative to the extraction directory, without {@code .} and empty parts;
   * refused when it is absolute, climbs out ({@code ..}), or could be read otherwise elsewhere.
   */
  private static String relativePath(String name, int rawLength) throws InvalidPackageException {
    if (name.isEmpty() || rawLength > MAX_NAME_BYTES) {
      throw corrupt("entry name of " + rawLength + " bytes");
    }
    if (name.indexOf('\0') >= 0 || name.indexOf('\\') >= 0) {
      throw corrupt("entry name with a NUL or a backslash: " + name);
    }
    if (name.startsWith("/") || (name.length() > 1 && name.charAt(1) == ':')) {
      throw corrupt("absolute entry name " + name);
    }
    StringBuilder path = new StringBuilder();
    for (String part : name.split("/")) {
      if (part.equals("..")) {
        throw corrupt("entry escapes the extraction directory: " + name);
      }
      if (part.isEmpty() || part.equals(".")) {
        continue;
      }
      if (part.getBytes(StandardCharsets.UTF_8).length > 255) {
        throw corrupt("entry name part longer than 255 bytes: " + name);
      }
      if (path.length() > 0) {
        path.append('/');
      }
      path.append(part);
    }
    return path.toString();
  }

  /**
   * UTF-8 when the entry says so or the bytes are valid UTF-8; otherwise the DOS code page zip
   * tools on Windows write (every byte sequence decodes, so no name is unreadable).
   */
  private static String decodeName(byte[] raw, int flags) throws InvalidPackageException {
    try {
      return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(raw)).toString();
    } catch (CharacterCodingException e) {
      if ((flags & FLAG_UTF8) != 0) {
        throw corrupt("entry name is not the UTF-8 it claims to be");
      }
      return dosCharset().decode(ByteBuffer.wrap(raw)).toString();
    }
  }

  private static Charset dosCharset() {
    try {
      return Charset.forName("IBM437");
    } catch (IllegalArgumentException e) {
      return StandardCharsets.ISO_8859_1;  // a JVM without the extended charsets
    }
  }

  /** Zips made on Windows carry no mode bits; a custom runtime's bootstrap must still run. */
  private static boolean isConventionalExecutable(String name) {
    return name.equals("bootstrap") || name.startsWith("bin/");
  }

  private static InvalidPackageException corrupt(String detail) {
    return new InvalidPackageException(detail, false);
  }
}
