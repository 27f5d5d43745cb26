/** What the screens read: the worklist page and the detail of one study. */
import type { ImageInfo } from '../../core/api/image';
import type { ListStudiesRequest, ListStudiesResponse, StudyDetail, StudyRow } from '../../core/api/studies';
import type { Connection } from './connection';
import type { ImageRepository } from './images';
import { calibrationOf, effectiveSpacingOf, fileSpacingOf, modelRunOf, versionOf, type ModelRunRow } from './rows';
import type { VersionRepository } from './versions';
import { listStudiesQuery, preferWalk, SEARCH_INDEX_COUNT_LIMIT } from './worklist';

export class StudyQueries {
  constructor(
    private readonly sql: Connection,
    private readonly images: ImageRepository,
    private readonly versions: VersionRepository,
  ) {}

  listStudies(request: ListStudiesRequest): ListStudiesResponse {
    const query = listStudiesQuery(request);
    return this.sql.read('list the studies', () => {
      const { scan } = query;
      const common =
        scan !== undefined &&
        (this.sql.get<{ n: number }>(scan.probeSql, ...scan.probeParams)?.n ?? 0) >= SEARCH_INDEX_COUNT_LIMIT;
      const total = (
        common ? this.sql.get(scan.countSql, ...scan.params) : this.sql.get(query.countSql, ...query.params)
      ) as { n: number };
      const walk =
        query.walk &&
        preferWalk(
          total.n,
          this.sql.get<{ n: number | null }>('SELECT MAX(id) AS n FROM images')?.n ?? 0,
          request.offset,
          request.limit,
        )
          ? query.walk
          : null;
      const rows = walk
        ? this.sql.all<StudyRowOfDb>(walk.pageSql, ...walk.params, request.limit, request.offset)
        : this.sql.all<StudyRowOfDb>(query.pageSql, ...query.params, request.limit, request.offset);
      return { total: total.n, rows: rows.map((r) => ({ ...r, borderline: r.borderline === 1 })) };
    });
  }

  loadStudy(imageId: number): StudyDetail {
    return this.sql.read('load the study', () => {
      const image = this.images.row(imageId);
      const history = this.versions.setsOf(imageId).map(versionOf);
      const latest = history.find((v) => v.versionId === image.latest_set_ref) ?? null;
      const aiVersion = history.find((v) => v.versionId === image.ai_set_ref) ?? null;
      const runRow = aiVersion?.modelRunId
        ? this.sql.get<ModelRunRow>('SELECT * FROM model_runs WHERE id = ?', aiVersion.modelRunId)
        : undefined;
      const infoJson = this.sql.getRequired<{ info_json: string }>(
        `image information of image ${imageId}`,
        'SELECT info_json FROM image_info WHERE image_ref = ?',
        imageId,
      ).info_json;
      const parsed = JSON.parse(infoJson) as ImageInfo;
      const entered = this.sql.get<{
        age_years: number | null;
        age_entered: number;
        entered_sex: 'M' | 'F' | 'O' | null;
      }>('SELECT age_years, age_entered, entered_sex FROM studies WHERE id = ?', image.study_ref);
      const meta = {
        ...parsed.meta,
        ageYears: parsed.meta.ageYears ?? (entered?.age_entered ? entered.age_years : null),
        sex: parsed.meta.sex ?? entered?.entered_sex ?? null,
      };
      const info = { ...parsed, meta, spacing: effectiveSpacingOf(image) };
      return {
        imageId: image.id,
        studyId: image.study_ref,
        sha256: image.sha256,
        importedAt: image.imported_at,
        info,
        fileSpacing: fileSpacingOf(image),
        calibration: calibrationOf(image),
        latest,
        ai: aiVersion ? { ...aiVersion, modelRun: runRow ? modelRunOf(runRow) : null } : null,
        history,
        review: { status: image.review_status, by: image.reviewed_by, at: image.reviewed_at },
      };
    });
  }
}

type StudyRowOfDb = Omit<StudyRow, 'borderline'> & { borderline: number | null };
