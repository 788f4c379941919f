package dev.lamina.persistence.code;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipInputStream;

/**
 * Reads and checks a code package (a zip) and extracts it safely.
 *
 * <p>java.util.zip does not expose the Unix mode bits that zip tools record, and Lambda honours
 * them (a custom runtime's {@code bootstrap} must be executable), so the central directory is
 * read here too: it gives each entry's mode and tells symlinks apart. Entries that would land
 * outside the extraction directory ({@code ../}, absolute paths) and symlinks are refused.
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

  private static final int EOCD_SIGNATURE = 0x06054b50;
  private static final int CENTRAL_SIGNATURE = 0x02014b50;
  private static final int UNIX_HOST = 3;
  private static final int S_IFMT = 0170000;
  private static final int S_IFLNK = 0120000;

  private final byte[] zip;
  private final Map<String, Integer> modes;
  private final long unzippedSize;

  private ZipPackage(byte[] zip, Map<String, Integer> modes, long unzippedSize) {
    this.zip = zip;
    this.modes = modes;
    this.unzippedSize = unzippedSize;
  }

  /**
   * Checks that {@code zip} is a readable zip with safe entry names, no symlinks, and at most
   * {@code maxUnzippedBytes} of content (counted while inflating, not trusted from headers).
   */
  public static ZipPackage inspect(byte[] zip, long maxUnzippedBytes) throws InvalidPackageException {
    Map<String, Integer> modes = readModes(zip);
    long total = 0;
    int entries = 0;
    byte[] buffer = new byte[64 * 1024];
    try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(zip))) {
      ZipEntry entry;
      while ((entry = in.getNextEntry()) != null) {
        entries++;
        checkName(entry.getName());
        Integer mode = modes.get(entry.getName());
        if (mode != null && (mode & S_IFMT) == S_IFLNK) {
          throw new InvalidPackageException("symlink entry " + entry.getName(), false);
        }
        int n;
        while ((n = in.read(buffer)) > 0) {
          total += n;
          if (total > maxUnzippedBytes) {
            throw new InvalidPackageException("unzipped size exceeds " + maxUnzippedBytes, true);
          }
        }
      }
    } catch (ZipException e) {
      throw new InvalidPackageException("not a zip: " + e.getMessage(), false);
    } catch (IOException e) {
      throw new InvalidPackageException("unreadable zip: " + e.getMessage(), false);
    }
    if (entries == 0) {
      throw new InvalidPackageException("empty or not a zip", false);
    }
    return new ZipPackage(zip, modes, total);
  }

  public long unzippedSize() {
    return unzippedSize;
  }

  /**
   * Extracts every entry under {@code target} (which must exist). A file already there is
   * replaced, so packages extracted one after the other overlay each other.
   */
  public void extractTo(Path target) throws IOException {
    Path root = target.toAbsolutePath().normalize();
    try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(zip))) {
      ZipEntry entry;
      while ((entry = in.getNextEntry()) != null) {
        Path out = root.resolve(entry.getName()).normalize();
        if (!out.startsWith(root)) {
          throw new IOException("entry escapes the extraction directory: " + entry.getName());
        }
        if (entry.isDirectory()) {
          directories(root, out);
          continue;
        }
        directories(root, out.getParent());
        if (Files.isDirectory(out, LinkOption.NOFOLLOW_LINKS)) {
          deleteTree(out);  // an earlier package's directory where this one has a file: the file wins
        } else if (Files.exists(out, LinkOption.NOFOLLOW_LINKS)) {
          Files.delete(out);  // an earlier package's file, read-only: replace it rather than write into it
        }
        try (OutputStream os = Files.newOutputStream(out)) {
          copy(in, os);
        }
        Integer mode = modes.get(entry.getName());
        boolean executable = mode != null ? (mode & 0111) != 0 : isConventionalExecutable(entry.getName());
        Files.setPosixFilePermissions(out, executable ? READ_EXEC : READ_ONLY);
      }
    }
  }

  /**
   * Creates {@code dir} and its parents below {@code root}; where an earlier package left a file
   * in the way, the directory of this package replaces it (later packages win).
   */
  private static void directories(Path root, Path dir) throws IOException {
    Path current = root;
    for (Path part : root.relativize(dir)) {
      current = current.resolve(part);
      if (Files.isDirectory(current, LinkOption.NOFOLLOW_LINKS)) {
        continue;
      }
      if (Files.exists(current, LinkOption.NOFOLLOW_LINKS)) {
        Files.delete(current);
      }
      Files.createDirectory(current);
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    try (java.util.stream.Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  private static final Set<PosixFilePermission> READ_ONLY = EnumSet.of(
      PosixFilePermission.OWNER_READ, PosixFilePermission.GROUP_READ, PosixFilePermission.OTHERS_READ);
  private static final Set<PosixFilePermission> READ_EXEC = EnumSet.of(
      PosixFilePermission.OWNER_READ, PosixFilePermission.GROUP_READ, PosixFilePermission.OTHERS_READ,
      PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.OTHERS_EXECUTE);

  /** Zips made on Windows carry no mode bits; a custom runtime's bootstrap must still run. */
  private static boolean isConventionalExecutable(String name) {
    return name.equals("bootstrap") || name.startsWith("bin/");
  }

  private static void copy(InputStream in, OutputStream out) throws IOException {
    byte[] buffer = new byte[64 * 1024];
    int n;
    while ((n = in.read(buffer)) > 0) {
      out.write(buffer, 0, n);
    }
  }

  private static void checkName(String name) throws InvalidPackageException {
    if (name.isEmpty() || name.startsWith("/") || name.startsWith("\\") || name.contains("\\")
        || (name.length() > 1 && name.charAt(1) == ':')) {
      throw new InvalidPackageException("absolute entry name " + name, false);
    }
    for (String part : name.split("/")) {
      if (part.equals("..")) {
        throw new InvalidPackageException("entry escapes the extraction directory: " + name, false);
      }
    }
  }

  /** Entry name → Unix mode, for entries written by a Unix zip tool. */
  private static Map<String, Integer> readModes(byte[] zip) throws InvalidPackageException {
    ByteBuffer buf = ByteBuffer.wrap(zip).order(ByteOrder.LITTLE_ENDIAN);
    int eocd = -1;
    // The end-of-central-directory record sits in the last 22 + 65535 (comment) bytes.
    for (int i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 65535); i--) {
      if (buf.getInt(i) == EOCD_SIGNATURE) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) {
      throw new InvalidPackageException("no end of central directory record", false);
    }
    int count = Short.toUnsignedInt(buf.getShort(eocd + 10));
    long offset = Integer.toUnsignedLong(buf.getInt(eocd + 16));
    Map<String, Integer> modes = new HashMap<>();
    int p = (int) Math.min(offset, Integer.MAX_VALUE);
    for (int i = 0; i < count; i++) {
      if (p < 0 || p + 46 > zip.length || buf.getInt(p) != CENTRAL_SIGNATURE) {
        throw new InvalidPackageException("corrupt central directory", false);
      }
      int madeBy = Short.toUnsignedInt(buf.getShort(p + 4)) >>> 8;
      int nameLength = Short.toUnsignedInt(buf.getShort(p + 28));
      int extraLength = Short.toUnsignedInt(buf.getShort(p + 30));
      int commentLength = Short.toUnsignedInt(buf.getShort(p + 32));
      int external = buf.getInt(p + 38);
      if (p + 46 + nameLength > zip.length) {
        throw new InvalidPackageException("corrupt central directory", false);
      }
      String name = new String(zip, p + 46, nameLength, java.nio.charset.StandardCharsets.UTF_8);
      if (madeBy == UNIX_HOST && (external >>> 16) != 0) {
        modes.put(name, external >>> 16);
      }
      p += 46 + nameLength + extraLength + commentLength;
    }
    return modes;
  }
}
