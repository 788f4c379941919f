package dev.lamina.loadtests.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Path2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import javax.imageio.ImageIO;

/**
 * The benchmark report's plots (XY lines, HdrHistogram-style latency percentile distributions and
 * stacked bars) drawn with plain {@code java.awt} and written with ImageIO, so the load tests need no
 * plotting dependency. Headless-safe; identical input gives identical PNGs. Non-finite values are
 * skipped; empty input yields empty axes rather than an exception.
 */
public final class Charts {

  /** A named series. {@link #percentiles} reads only {@code y}, as raw latency samples. */
  public record Series(String name, double[] x, double[] y) {}

  private static final int W = 1000, H = 560, PAD = 16;
  private static final Font TITLE = new Font(Font.SANS_SERIF, Font.BOLD, 18);
  private static final Font TEXT = new Font(Font.SANS_SERIF, Font.PLAIN, 13);
  /** Okabe-Ito, ordered so the colours with the most contrast on white come first. */
  private static final Color[] PALETTE = {
    new Color(0x0072B2), new Color(0xD55E00), new Color(0x009E73), new Color(0xE69F00),
    new Color(0xCC79A7), new Color(0x56B4E9), new Color(0x000000), new Color(0xF0E442)};
  private static final Color INK = new Color(0x222222), GRID = new Color(0xE2E2E2);

  private Charts() {}

  /** XY polylines; y from 0 to a nice maximum, x over the data's range. */
  public static void lines(Path png, String title, String xLabel, String yLabel, List<Series> series) {
    double xMin = Double.POSITIVE_INFINITY, xMax = Double.NEGATIVE_INFINITY, yMax = 0;
    for (Series s : series) {
      for (int i = 0; i < length(s); i++) {
        if (Double.isFinite(s.x()[i]) && Double.isFinite(s.y()[i])) {
          xMin = Math.min(xMin, s.x()[i]);
          xMax = Math.max(xMax, s.x()[i]);
          yMax = Math.max(yMax, s.y()[i]);
        }
      }
    }
    if (xMin > xMax) {
      xMin = 0;
      xMax = 1;
    } else if (xMin == xMax) {
      xMin -= 0.5;
      xMax += 0.5;
    }
    Canvas c = new Canvas(title, series.stream().map(Series::name).toList(), false, xLabel);
    c.yAxis(yMax, yLabel);
    c.xAxisNice(xMin, xMax);
    for (int k = 0; k < series.size(); k++) {
      c.polyline(series.get(k).x(), series.get(k).y(), length(series.get(k)), colour(k));
    }
    c.save(png);
  }

  /**
   * Latency against percentile on HdrHistogram's log scale of 1/(1-p), ticks at 0%, 90%, 99%, ...
   * Each series' {@code y} holds unsorted samples; the x axis ends at 1 - 1/n of the largest series.
   */
  public static void percentiles(Path png, String title, String yLabel, List<Series> series) {
    List<double[]> sorted = series.stream()
        .map(s -> s.y() == null ? new double[0] : Arrays.stream(s.y()).filter(Double::isFinite).sorted().toArray())
        .toList();
    int maxN = sorted.stream().mapToInt(v -> v.length).max().orElse(0);
    double yMax = sorted.stream().filter(v -> v.length > 0).mapToDouble(v -> v[v.length - 1]).max().orElse(0);
    double xMax = Math.max(1, Math.log10(maxN));
    int decades = (int) Math.floor(xMax + 1e-9);
    double[] ticks = new double[decades + 1];
    String[] labels = new String[decades + 1];
    for (int k = 0; k <= decades; k++) {
      ticks[k] = k;
      labels[k] = k == 0 ? "0%" : String.format(Locale.ROOT, "%." + Math.max(0, k - 2) + "f%%", 100 * (1 - Math.pow(10, -k)));
    }
    Canvas c = new Canvas(title, series.stream().map(Series::name).toList(), false, "Percentile");
    c.yAxis(yMax, yLabel);
    c.x0 = 0;
    c.x1 = xMax;
    c.xAxis(ticks, labels, true);
    for (int k = 0; k < sorted.size(); k++) {
      double[] v = sorted.get(k);
      double[] x = new double[v.length];
      for (int i = 0; i < v.length; i++) {
        x[i] = Math.log10(v.length / (double) (v.length - i));
      }
      c.polyline(x, v, v.length, colour(k));
    }
    c.save(png);
  }

  /** One stacked bar per label; {@code stacks.get(i)[j]} is the value of {@code stackNames.get(j)} in bar i. */
  public static void bars(Path png, String title, String yLabel, List<String> labels, List<double[]> stacks,
              List<String> stackNames) {
    double[] totals = new double[labels.size()];
    for (int i = 0; i < totals.length; i++) {
      for (int j = 0; j < stackNames.size(); j++) {
        totals[i] += segment(stacks, i, j);
      }
    }
    Canvas c = new Canvas(title, stackNames, true, null);
    c.yAxis(Arrays.stream(totals).max().orElse(0) * 1.08, yLabel); // headroom for the total labels
    c.x1 = Math.max(1, labels.size());
    double slot = (c.right - c.left) / c.x1, barW = Math.min(slot * 0.6, 140);
    double[] centres = new double[labels.size()];
    String[] names = new String[labels.size()];
    for (int i = 0; i < labels.size(); i++) {
      centres[i] = i + 0.5;
      names[i] = c.fit(Objects.toString(labels.get(i), ""), slot - 6);
    }
    c.xAxis(centres, names, false);
    for (int i = 0; i < labels.size(); i++) {
      double cx = c.sx(centres[i]), base = 0;
      for (int j = 0; j < stackNames.size(); j++) {
        double v = segment(stacks, i, j);
        if (v <= 0) {
          continue;
        }
        double top = c.sy(base + v), h = c.sy(base) - top;
        Rectangle2D r = new Rectangle2D.Double(cx - barW / 2, top, barW, h);
        c.g.setColor(colour(j));
        c.g.fill(r);
        c.g.setColor(Color.WHITE);
        c.g.draw(r);
        String text = value(v);
        if (h >= c.lineH && c.fm.stringWidth(text) <= barW - 4) {
          Color fill = colour(j);
          boolean dark = 0.299 * fill.getRed() + 0.587 * fill.getGreen() + 0.114 * fill.getBlue() < 140;
          c.g.setColor(dark ? Color.WHITE : INK);
          c.text(text, cx, top + h / 2, 0.5);
        }
        base += v;
      }
      if (base > 0 && c.fm.stringWidth(value(base)) <= slot - 4) {
        c.g.setColor(INK);
        c.text(value(base), cx, c.sy(base) - c.lineH / 2.0 - 2, 0.5);
      }
    }
    c.save(png);
  }

  private static int length(Series s) {
    return s.x() == null || s.y() == null ? 0 : Math.min(s.x().length, s.y().length);
  }

  private static double segment(List<double[]> stacks, int bar, int stack) {
    double[] s = bar < stacks.size() ? stacks.get(bar) : null;
    return s != null && stack < s.length && Double.isFinite(s[stack]) ? Math.max(0, s[stack]) : 0;
  }

  private static Color colour(int i) {
    return PALETTE[i % PALETTE.length];
  }

  /** A bar value with 0, 1 or 2 decimals by magnitude, trailing zeros dropped ("42", "96.5", "0.8"). */
  private static String value(double v) {
    String s = String.format(Locale.ROOT, v >= 100 ? "%.0f" : v >= 10 ? "%.1f" : "%.2f", v);
    return s.contains(".") ? s.replaceAll("\\.?0+$", "") : s;
  }

  /** The smallest step of the form 1, 2 or 5 × 10^k that splits {@code span} into at most {@code count} parts. */
  private static double niceStep(double span, int count) {
    double raw = span / count, magnitude = Math.pow(10, Math.floor(Math.log10(raw))), m = raw / magnitude * (1 - 1e-9);
    return magnitude * (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10);
  }

  /** A tick value with as many decimals as its step needs. */
  private static String tick(double v, double step) {
    int decimals = Math.max(0, (int) Math.ceil(-Math.log10(step) - 1e-9));
    return String.format(Locale.ROOT, "%." + decimals + "f", Math.abs(v) < step * 1e-6 ? 0 : v);
  }

  /** Image, layout (plot rectangle and data-to-pixel mapping) and the drawing primitives the charts share. */
  private static final class Canvas {
    final BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
    final Graphics2D g = img.createGraphics();
    final FontMetrics fm;
    final int lineH, top, bottom, right = W - PAD - 24;
    final String xLabel;
    int left;
    double x0, x1 = 1, yMax = 1;

    Canvas(String title, List<String> legend, boolean boxes, String xLabel) {
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
      g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
      g.setColor(Color.WHITE);
      g.fillRect(0, 0, W, H);
      g.setColor(INK);
      g.setFont(TITLE);
      int titleH = g.getFontMetrics().getHeight();
      text(Objects.toString(title, ""), W / 2.0, PAD + titleH / 2.0, 0.5);
      g.setFont(TEXT);
      fm = g.getFontMetrics();
      lineH = fm.getHeight();
      this.xLabel = xLabel;
      top = legend(legend, boxes, PAD + titleH + 8) + 10;
      bottom = H - PAD - (xLabel == null ? 0 : lineH + 4) - lineH - 8;
    }

    /** Draws the legend in centred rows that wrap at the image width; returns the y below it. */
    private int legend(List<String> names, boolean boxes, int y) {
      int swatch = boxes ? 12 : 24, gap = 22;
      int[] widths = names.stream().mapToInt(n -> swatch + 6 + fm.stringWidth(Objects.toString(n, ""))).toArray();
      for (int i = 0; i < widths.length; y += lineH + 4) {
        int j = i, rowW = widths[i];
        while (j + 1 < widths.length && rowW + gap + widths[j + 1] <= W - 2 * PAD) {
          rowW += gap + widths[++j];
        }
        double x = (W - rowW) / 2.0, cy = y + lineH / 2.0;
        for (; i <= j; x += widths[i++] + gap) {
          g.setColor(colour(i));
          if (boxes) {
            g.fill(new Rectangle2D.Double(x, cy - 6, 12, 12));
          } else {
            g.setStroke(new BasicStroke(3f));
            g.drawLine((int) x, (int) cy, (int) x + swatch, (int) cy);
          }
          g.setColor(INK);
          text(Objects.toString(names.get(i), ""), x + swatch + 6, cy, 0);
        }
      }
      g.setStroke(new BasicStroke(1f));
      return y;
    }

    /** Fixes the y scale to 0..a nice maximum ≥ {@code max}, sets the left margin and draws grid and labels. */
    void yAxis(double max, String label) {
      max = max > 0 && Double.isFinite(max) ? max : 1;
      double step = niceStep(max, Math.max(2, (bottom - top) / 45));
      int n = (int) Math.ceil(max / step - 1e-9);
      yMax = n * step;
      String[] labels = new String[n + 1];
      int widest = 0;
      for (int i = 0; i <= n; i++) {
        labels[i] = tick(i * step, step);
        widest = Math.max(widest, fm.stringWidth(labels[i]));
      }
      left = PAD + lineH + 8 + widest + 8;
      for (int i = 0; i <= n; i++) {
        int y = (int) Math.round(sy(i * step));
        g.setColor(GRID);
        g.drawLine(left, y, right, y);
        g.setColor(INK);
        text(labels[i], left - 8, y, 1);
      }
      AffineTransform saved = g.getTransform();
      g.rotate(-Math.PI / 2, PAD + lineH / 2.0, (top + bottom) / 2.0);
      text(Objects.toString(label, ""), PAD + lineH / 2.0, (top + bottom) / 2.0, 0.5);
      g.setTransform(saved);
    }

    /** Fixes the x scale to min..max with nice ticks, as many as fit without their labels touching. */
    void xAxisNice(double min, double max) {
      x0 = min;
      x1 = max;
      for (int count = Math.max(2, (right - left) / 80); ; count--) {
        double step = niceStep(max - min, count);
        int first = (int) Math.ceil(min / step - 1e-9), last = (int) Math.floor(max / step + 1e-9);
        double[] ticks = new double[last - first + 1];
        String[] labels = new String[ticks.length];
        int widest = 0;
        for (int i = 0; i < ticks.length; i++) {
          ticks[i] = (first + i) * step;
          labels[i] = tick(ticks[i], step);
          widest = Math.max(widest, fm.stringWidth(labels[i]));
        }
        if (count <= 2 || step / (max - min) * (right - left) >= widest + 16) {
          xAxis(ticks, labels, true);
          return;
        }
      }
    }

    /** Draws x tick labels (and vertical grid lines) at the given data positions, then the axis label. */
    void xAxis(double[] ticks, String[] labels, boolean grid) {
      for (int i = 0; i < ticks.length; i++) {
        int x = (int) Math.round(sx(ticks[i]));
        if (grid) {
          g.setColor(GRID);
          g.drawLine(x, top, x, bottom);
        }
        g.setColor(INK);
        g.drawLine(x, bottom, x, bottom + 4);
        double half = fm.stringWidth(labels[i]) / 2.0;
        text(labels[i], Math.min(Math.max(x, PAD + half), W - PAD - half), bottom + 8 + lineH / 2.0, 0.5);
      }
      if (xLabel != null) {
        text(xLabel, (left + right) / 2.0, bottom + 8 + lineH + 4 + lineH / 2.0, 0.5);
      }
    }

    /** Draws a polyline through the finite points, breaking it at NaNs and marking isolated points. */
    void polyline(double[] xs, double[] ys, int n, Color colour) {
      g.setColor(colour);
      g.setStroke(new BasicStroke(2f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
      g.setClip(left - 3, top - 3, right - left + 6, bottom - top + 6);
      Path2D.Double path = new Path2D.Double();
      double px = 0, py = 0;
      int run = 0;
      for (int i = 0; i <= n; i++) {
        if (i == n || !Double.isFinite(xs[i]) || !Double.isFinite(ys[i])) {
          if (run == 1) {
            g.fill(new Ellipse2D.Double(px - 3, py - 3, 6, 6));
          }
          run = 0;
          continue;
        }
        px = sx(xs[i]);
        py = sy(ys[i]);
        if (run++ == 0) {
          path.moveTo(px, py);
        } else {
          path.lineTo(px, py);
        }
      }
      g.draw(path);
      g.setClip(null);
      g.setStroke(new BasicStroke(1f));
    }

    /** Draws {@code s} vertically centred on y; hAlign 0 = left edge at x, 0.5 = centred, 1 = right edge. */
    void text(String s, double x, double y, double hAlign) {
      FontMetrics m = g.getFontMetrics();
      g.drawString(s, (float) (x - hAlign * m.stringWidth(s)), (float) (y + (m.getAscent() - m.getDescent()) / 2.0));
    }

    /** {@code s}, shortened with an ellipsis if it is wider than {@code width} pixels. */
    String fit(String s, double width) {
      if (fm.stringWidth(s) <= width) {
        return s;
      }
      int n = s.length();
      while (n > 0 && fm.stringWidth(s.substring(0, n) + "…") > width) {
        n--;
      }
      return s.substring(0, n) + "…";
    }

    double sx(double x) {
      return left + (x - x0) / (x1 - x0) * (right - left);
    }

    double sy(double y) {
      return bottom - y / yMax * (bottom - top);
    }

    void save(Path png) {
      g.setColor(INK);
      g.drawLine(left, top, left, bottom);
      g.drawLine(left, bottom, right, bottom);
      g.dispose();
      try {
        Path dir = png.toAbsolutePath().getParent();
        if (dir != null) {
          Files.createDirectories(dir);
        }
        ImageIO.write(img, "png", png.toFile());
      } catch (IOException e) {
        throw new UncheckedIOException("writing " + png, e);
      }
    }
  }
}
