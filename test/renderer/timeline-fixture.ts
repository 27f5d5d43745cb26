/** A patient timeline as the API returns it, with the given visits and nothing else to report (test support). */
import type { TimelineResponse, TimelineVisitView } from '../../core/api/pacs';

export const timelineOf = (visits: TimelineVisitView[], patientName: string | null = null): TimelineResponse => ({
  patientId: 'P1',
  patientName,
  visits,
  peak: null,
  inconsistencies: [],
  merged: [],
  otherIssuers: [],
  splitOff: [],
  splitFrom: null,
});
