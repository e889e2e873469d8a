"""The pages of background jobs (progress, result files: core.jobs) and of imports (upload, map columns, preview,
run: core.imports; the kinds come from the modules). Routes of the core blueprint (``core.job``,
``core.imports_start``…), kept apart from the sign-in, shows and editions pages."""
from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from . import IMPORT_DATA, services
from .auth import current_scope, require
from .forms import choices
from .models import Edition
from .permissions import has_permission
from .scoping import get_scoped_or_404
from .views import bp

# --- background jobs: progress and result files (core.jobs) ---------------------------------------------

def _visible_job(job_id):
    from . import jobs

    job = jobs.get(job_id)
    if not jobs.visible(job, current_scope(), lambda name: has_permission(current_user, name)):
        abort(404)
    return job


@bp.route("/org/jobs/<int:job_id>")
@require(organizer=True)
def job(job_id):
    from . import jobs

    job = _visible_job(job_id)
    return render_template("core/job.html", job=job, status=jobs.status(job), files=jobs.files(job))


@bp.route("/org/jobs/<int:job_id>.json")
@require(organizer=True)
def job_status(job_id):
    from . import jobs

    job = _visible_job(job_id)
    answer = jobs.status(job)
    answer["file_urls"] = {name: url_for("core.job_file", job_id=job.id, name=name) for name in answer["files"]}
    return answer


@bp.route("/org/jobs/<int:job_id>/files/<name>")
@require(organizer=True)
def job_file(job_id, name):
    from flask import send_file

    from . import jobs

    job = _visible_job(job_id)
    if name not in jobs.files(job):
        abort(404)
    services.audit("job.file_downloaded", organizer_id=job.organizer_id, user_id=current_user.id, obj=job,
                   details={"name": name})
    return send_file(jobs.file_path(job, name), as_attachment=True, download_name=name)


# --- imports: upload, map columns, preview, run (core.imports; the kinds come from the modules) ------------

def _import_job(job_id):
    from . import imports

    job = _visible_job(job_id)
    if not job.kind.startswith("import.") or not has_permission(current_user, imports.IMPORT_PERMISSION):
        abort(404)
    return job


@bp.route("/org/imports", methods=["GET", "POST"])
@require(IMPORT_DATA, organizer=True)
def imports_start():
    from . import imports, jobs
    from .forms import ImportUploadForm

    scope = current_scope()
    kinds = imports.kinds()
    form = ImportUploadForm(edition_id=request.args.get("edition_id", 0, type=int),
                            kind=request.args.get("kind", "persons"))
    form.kind.choices = choices((code, k.label) for code, k in kinds.items())
    form.edition_id.choices = choices([(0, "—")] + [(e.id, e.name) for e in services.editions(scope)])
    form.mapping_id.choices = choices([(0, _("Guess from the column names"))]
                                      + [(m.id, f"{m.name} ({kinds[m.kind].label if m.kind in kinds else m.kind})")
                                         for m in imports.saved_mappings(scope)])
    file_error = None
    if form.validate_on_submit():
        upload = request.files.get("file")
        edition = get_scoped_or_404(Edition, form.edition_id.data, scope) if form.edition_id.data else None
        if upload is None or not upload.filename:
            file_error = _("Choose a CSV or XLSX file.")
        else:
            try:
                job = imports.start_upload(scope, form.kind.data, upload.filename, upload.stream,
                                           user_id=current_user.id, edition=edition)
            except services.ServiceError as error:
                if error.field == "edition_id":
                    form.edition_id.errors.append(str(error))
                else:
                    file_error = str(error)
            else:
                mapping = imports.find_mapping(scope, form.kind.data, form.mapping_id.data) \
                    if form.mapping_id.data else None
                if mapping is not None:
                    imports.set_params(job, mapping=dict(mapping.columns), mapping_name=mapping.name)
                return redirect(url_for("core.import_mapping", job_id=job.id))
    return render_template("core/import_start.html", form=form, kinds=kinds, file_error=file_error,
                           recent=jobs.recent(scope, "import."))


@bp.route("/org/editions/<int:edition_id>/imports")
@require(IMPORT_DATA, organizer=True)
def edition_imports():
    """The edition's entry to the imports: the upload page with the edition chosen."""
    return redirect(url_for("core.imports_start", edition_id=g.edition.id))


@bp.route("/org/imports/<int:job_id>/mapping", methods=["GET", "POST"])
@require(IMPORT_DATA, organizer=True)
def import_mapping(job_id):
    from . import imports
    from .forms import ImportMappingForm

    job = _import_job(job_id)
    params = job.params or {}
    if params.get("stage") not in ("mapping", "preview"):
        return redirect(url_for("core.job", job_id=job.id))
    kind = imports.kind(params["import_kind"])
    try:
        table, rows = imports.sample(imports.upload_path(job))
    except services.ServiceError as error:
        flash(str(error), "danger")
        return redirect(url_for("core.imports_start"))
    form = ImportMappingForm(mapping_name=params.get("mapping_name", ""))
    mapping = dict(params.get("mapping") or {})
    problems = []
    if form.validate_on_submit():
        field_names = {f.name for f in kind.fields}
        mapping = {}
        for index, column in enumerate(table.header):
            chosen = request.form.get(f"column-{index}", "")
            if chosen in field_names:
                mapping[column] = chosen
        problems = imports.check_mapping(kind, table.header, mapping)
        if not problems:
            imports.set_params(job, mapping=mapping, stage="preview")
            if (form.mapping_name.data or "").strip():
                imports.save_mapping(current_scope(), kind.code, form.mapping_name.data, mapping,
                                     actor_id=current_user.id)
            return redirect(url_for("core.import_preview", job_id=job.id))
    columns = [{"index": i, "name": column, "field": mapping.get(column, ""),
                "samples": [r[i] for r in rows if i < len(r) and r[i].strip()][:3]}
               for i, column in enumerate(table.header)]
    return render_template("core/import_mapping.html", job=job, kind=kind, form=form, columns=columns,
                           problems=problems, table=table)


@bp.route("/org/imports/<int:job_id>/preview", methods=["GET", "POST"])
@require(IMPORT_DATA, organizer=True)
def import_preview(job_id):
    from . import imports
    from .forms import ImportRunForm

    job = _import_job(job_id)
    params = job.params or {}
    if params.get("stage") not in ("mapping", "preview"):
        return redirect(url_for("core.job", job_id=job.id))
    kind = imports.kind(params["import_kind"])
    form = ImportRunForm()
    if form.validate_on_submit():
        try:
            imports.queue(job, ambiguous=form.ambiguous.data, actor_id=current_user.id)
        except services.ServiceError as error:
            flash(str(error), "danger")
        else:
            return redirect(url_for("core.job", job_id=job.id))
    try:
        report = imports.preview(job)
    except services.ServiceError as error:
        flash(str(error), "danger")
        return redirect(url_for("core.import_mapping", job_id=job.id))
    return render_template("core/import_preview.html", job=job, kind=kind, form=form, report=report,
                           limit=imports.PREVIEW_ROWS, classes=imports.ROW_CLASSES, labels=imports.CLASS_LABELS)
