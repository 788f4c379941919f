package dev.lamina.loadtests.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ReportTest {

  @Test
  void nearestRankPercentiles() {
    double[] s = {5, 1, 4, 2, 3, 10, 9, 8, 7, 6};
    assertEquals(5, Report.pct(s, 50));
    assertEquals(10, Report.pct(s, 99));
    assertEquals(10, Report.pct(s, 100));
    assertEquals(1, Report.pct(s, 0));
    assertTrue(Double.isNaN(Report.pct(new double[0], 50)));
  }
}
