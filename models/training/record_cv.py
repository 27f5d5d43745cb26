"""Record the app's cross-validated figures in a landmark model's manifest (accuracy), from the JSON report of
`cvm eval --folds` (every image analysed by the fold model that held it out, through the app's own pipeline):

  npm run cvm -- eval --annotations ../shared/data/cvm13/annotations.json --folds models/cvm13-unet/folds --json > cv.json
  python3 models/training/record_cv.py cv.json --model models/cvm13-unet [--keep-before before_fields_of_view]

Writes mre/median/sd/max, the success rates, the per-landmark errors, the points on another vertebra and the
expected error's leave-one-fold-out figures (the in-sample ones come from decoding.json, fit_decoding.py). With
--keep-before NAME the figures they replace, and the blocks measured outside the app that no longer describe the
networks (`stage1`, `without_test_time_decoding`), are kept under accuracy[NAME]. test/inference/cross-validation
.test.ts checks that the manifest's figures are the ones `cvm eval --folds` gives.
"""
import argparse
import json
import os

import numpy as np

FIGURES = ("mre_mm", "median_mm", "sd_mm", "max_mm", "sdr_1mm", "sdr_2mm", "sdr_2_5mm", "sdr_4mm", "per_landmark_mm",
           "wrong_vertebra", "points_on_other_vertebra_app_metric")
MEASURED_OUTSIDE_THE_APP = ("stage1", "without_test_time_decoding")


def figures(report):
    """The manifest's accuracy figures from a `cvm eval --folds --json` report (measured points only)."""
    errors = np.array([e for im in report["images"] for e in (im.get("errorsMm") or {}).values()])
    all_images = report["measured"]["allImages"]
    if len(errors) != all_images["landmarks"]:
        raise SystemExit("the report's images hold %d errors, its summary %d" % (len(errors), all_images["landmarks"]))
    r4 = lambda v: round(float(v), 4)  # noqa: E731
    return {
        "images": all_images["images"],
        "landmarks_measured": int(len(errors)),
        "mre_mm": r4(errors.mean()),
        "median_mm": r4(np.median(errors)),
        "sd_mm": r4(errors.std()),
        "max_mm": r4(errors.max()),
        **{"sdr_%smm" % k.replace("mm", "").replace(".", "_"): r4(v) for k, v in all_images["sdr"].items()},
        "per_landmark_mm": {k: r4(v) for k, v in all_images["per_landmark_mm"].items()},
        "wrong_vertebra": report["wrongVertebra"],
        "points_on_other_vertebra_app_metric": report["wrongVertebra"],
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("report", help="cvm eval --folds --json output")
    ap.add_argument("--model", required=True, help="the model folder whose manifest.json is updated")
    ap.add_argument("--keep-before", default=None, help="keep the replaced figures under accuracy[NAME]")
    ap.add_argument("--note", default="", help="what changed, kept with the replaced figures")
    args = ap.parse_args()
    report = json.load(open(args.report))
    if report.get("expectedErrorCalibration") != "leave-one-fold-out":
        raise SystemExit("the report is not of cvm eval --folds with leave-one-fold-out calibrations")
    path = os.path.join(args.model, "manifest.json")
    manifest = json.load(open(path))
    acc = manifest["accuracy"]
    new = figures(report)
    if args.keep_before:
        before = {"note": args.note, **{k: acc[k] for k in FIGURES if k in acc}}
        before["expected_error"] = {k: acc["expected_error"][k] for k in ("spearman", "flagged_share", "over_2mm_flagged")}
        for k in MEASURED_OUTSIDE_THE_APP:
            if k in acc:
                before[k] = acc.pop(k)
        acc[args.keep_before] = before
    acc.update(new)
    ee = report["expectedError"]
    expected_error = json.load(open(os.path.join(args.model, "decoding.json")))["expectedError"]
    calibration, flag_mm = expected_error["crossValidated"], expected_error["flagMm"]
    acc["expected_error"].update({
        "spearman": round(ee["spearman"], 3), "flagged_share": round(ee["flaggedShare"], 3),
        "over_2mm_flagged": round(ee["over2mmFlagged"], 3), "points_over_2mm": ee["over2mm"],
        "spearman_leave_one_fold_out": round(ee["spearman"], 3),
        "flagged_share_leave_one_fold_out": round(ee["flaggedShare"], 3),
        "over_2mm_flagged_leave_one_fold_out": round(ee["over2mmFlagged"], 3),
        "spearman_in_sample": round(calibration["spearman"], 3),
        "flagged_share_in_sample": round(calibration["flaggedShare"], 3),
        "over_2mm_flagged_in_sample": round(calibration["over2mmFlagged"], 3),
        "spearman_leave_one_image_out": round(calibration["leaveOneImageOut"]["spearman"], 3),
        "flagged_share_leave_one_image_out": round(calibration["leaveOneImageOut"]["flaggedShare"], 3),
        "over_2mm_flagged_leave_one_image_out": round(calibration["leaveOneImageOut"]["over2mmFlagged"], 3),
        "flag_mm": round(flag_mm, 3),
    })
    check = calibration["imageCheck"]
    over2 = [im for im in report["images"] if any(e > 2 for e in (im.get("errorsMm") or {}).values())]
    rest = [im for im in report["images"] if im.get("errorsMm") and im not in over2]
    share = lambda ims: round(sum(im["verdict"] != "ok" for im in ims) / max(1, len(ims)), 4)  # noqa: E731
    acc["image_verdict"].update({
        "image_check_mm": round(expected_error["imageCheckMm"], 4),
        "check_share_images_with_point_over_2mm": round(check["checkShareWithPointOver2mm"], 4),
        "check_share_images_without": round(check["checkShareWithout"], 4),
        "check_share_leave_one_fold_out": {"with_point_over_2mm": round(check["leaveOneFoldOut"]["checkShareWithPointOver2mm"], 4),
                                           "without": round(check["leaveOneFoldOut"]["checkShareWithout"], 4)},
        "before_any_flag": {"with_point_over_2mm": round(check["anyFlaggedBefore"]["checkShareWithPointOver2mm"], 4),
                            "without": round(check["anyFlaggedBefore"]["checkShareWithout"], 4)},
        "images_with_point_over_2mm": len(over2),
        "auc_largest_expected_error": round(check["aucLargestExpected"], 3),
    })
    flagged_images = sum(im.get("verdict", "ok") != "ok" for im in report["images"])
    acc["image_verdict"]["cvm_eval_folds_leave_one_fold_out"].update({
        "note": "cvm eval --folds with each fold's own calibration and image-check threshold fitted without it: "
                "'check' or 'failed' on %d of %d images" % (flagged_images, len(report["images"])),
        "with_point_over_2mm": share(over2), "without": share(rest),
        "failed": sum(im["verdict"] == "failed" for im in report["images"]),
    })
    with open(path, "w") as fh:
        json.dump(manifest, fh, indent=2, ensure_ascii=False)
        fh.write("\n")
    print("%s: MRE %.4f mm, within 2 mm %.4f, on another vertebra %d; expected error Spearman %.3f (LOFO)" % (
        path, new["mre_mm"], new["sdr_2mm"], new["wrong_vertebra"], ee["spearman"]))


if __name__ == "__main__":
    main()
