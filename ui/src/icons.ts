import { LabIcon } from '@jupyterlab/ui-components';

import columnSvg from '../style/icons/column.svg';
import lakehouseSvg from '../style/icons/lakehouse.svg';
import modelSvg from '../style/icons/model.svg';
import namespaceSvg from '../style/icons/namespace.svg';
import dashboardSvg from '../style/icons/dashboard.svg';
import reportSvg from '../style/icons/report.svg';
import tableSvg from '../style/icons/table.svg';
import { DatasetKind } from './api';

export const lakehouseIcon = new LabIcon({ name: 'lakelab:lakehouse', svgstr: lakehouseSvg });
export const namespaceIcon = new LabIcon({ name: 'lakelab:namespace', svgstr: namespaceSvg });
export const columnIcon = new LabIcon({ name: 'lakelab:column', svgstr: columnSvg });

const kindIcons: Record<DatasetKind, LabIcon> = {
  table: new LabIcon({ name: 'lakelab:kind-table', svgstr: tableSvg }),
  model: new LabIcon({ name: 'lakelab:kind-model', svgstr: modelSvg }),
  report: new LabIcon({ name: 'lakelab:kind-report', svgstr: reportSvg }),
  dashboard: new LabIcon({ name: 'lakelab:kind-dashboard', svgstr: dashboardSvg })
};

export function kindIcon(kind: DatasetKind): LabIcon {
  return kindIcons[kind] ?? kindIcons.table;
}
